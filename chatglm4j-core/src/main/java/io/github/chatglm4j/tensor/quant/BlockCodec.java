package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Quantizer and scalar dequantizer of one ggml block type. Rows are processed block by block through a small heap
 * buffer, so a call writes exactly {@code count / blockSize * bytesPerBlock} bytes at {@code dstOff} and nothing
 * else. The dequantizers are plain scalar code (a test oracle for the vectorized kernels), not fast paths.
 *
 * <p>Inputs must be finite and small enough that the block's scale fits a half float; anything else is an
 * {@link IllegalArgumentException} rather than a block of infinities.
 */
public abstract sealed class BlockCodec
        permits Q8_0Codec, Q4_0Codec, Q4_1Codec, Q5_0Codec, Q5_1Codec, Q4_KCodec, Q5_KCodec, Q6_KCodec {

    /** Blocks converted per heap buffer: bounds the buffer to a few KB whatever the row length. */
    private static final int CHUNK_BLOCKS = 64;

    private final TensorType type;

    BlockCodec(TensorType type) {
        this.type = type;
    }

    /** The codec of a block-quantized type. */
    public static BlockCodec of(TensorType type) {
        return switch (Objects.requireNonNull(type, "type")) {
            case Q8_0 -> Q8_0Codec.INSTANCE;
            case Q4_0 -> Q4_0Codec.INSTANCE;
            case Q4_1 -> Q4_1Codec.INSTANCE;
            case Q5_0 -> Q5_0Codec.INSTANCE;
            case Q5_1 -> Q5_1Codec.INSTANCE;
            case Q4_K -> Q4_KCodec.INSTANCE;
            case Q5_K -> Q5_KCodec.INSTANCE;
            case Q6_K -> Q6_KCodec.INSTANCE;
            case F32, F16, BF16 -> throw new IllegalArgumentException(type + " is not a block-quantized type");
        };
    }

    public final TensorType type() {
        return type;
    }

    /**
     * Quantizes {@code src[off, off + count)} into {@code count / blockSize} blocks written at byte {@code dstOff}
     * of {@code dst}; {@code count} must be a multiple of the block size.
     */
    public final void quantize(float[] src, int off, int count, MemorySegment dst, long dstOff) {
        int blocks = blocks(count);
        Objects.checkFromIndexSize(off, count, src.length);
        int bpb = type.bytesPerBlock();
        Objects.checkFromIndexSize(dstOff, (long) blocks * bpb, dst.byteSize());
        int bs = type.blockSize();
        byte[] buf = new byte[Math.min(blocks, CHUNK_BLOCKS) * bpb];
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int n = Math.min(CHUNK_BLOCKS, blocks - b0);
            for (int b = 0; b < n; b++) {
                quantizeBlock(src, off + (b0 + b) * bs, buf, b * bpb);
            }
            MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, dstOff + (long) b0 * bpb, n * bpb);
        }
    }

    /**
     * Decodes the {@code count / blockSize} blocks at byte {@code srcOff} of {@code src} into
     * {@code dst[off, off + count)}; {@code count} must be a multiple of the block size.
     */
    public final void dequantize(MemorySegment src, long srcOff, float[] dst, int off, int count) {
        int blocks = blocks(count);
        Objects.checkFromIndexSize(off, count, dst.length);
        int bpb = type.bytesPerBlock();
        Objects.checkFromIndexSize(srcOff, (long) blocks * bpb, src.byteSize());
        int bs = type.blockSize();
        byte[] buf = new byte[Math.min(blocks, CHUNK_BLOCKS) * bpb];
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int n = Math.min(CHUNK_BLOCKS, blocks - b0);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOff + (long) b0 * bpb, buf, 0, n * bpb);
            for (int b = 0; b < n; b++) {
                dequantizeBlock(buf, b * bpb, dst, off + (b0 + b) * bs);
            }
        }
    }

    private int blocks(int count) {
        int bs = type.blockSize();
        if (count < 0 || count % bs != 0) {
            throw new IllegalArgumentException(count + " values is not a whole number of " + type + " blocks of " + bs);
        }
        return count / bs;
    }

    /** Encodes the {@code blockSize} values at {@code x[xOff]} as one block at {@code out[outOff]}. */
    abstract void quantizeBlock(float[] x, int xOff, byte[] out, int outOff);

    /** Decodes the block at {@code in[inOff]} into {@code y[yOff, yOff + blockSize)}. */
    abstract void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff);

    @Override
    public String toString() {
        return type + " codec";
    }
}
