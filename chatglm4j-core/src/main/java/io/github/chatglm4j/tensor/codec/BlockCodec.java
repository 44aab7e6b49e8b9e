package io.github.chatglm4j.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Quantizer and scalar dequantizer of one storage format: blocks of {@link #blockSize()} values in
 * {@link #bytesPerBlock()} bytes, little-endian (the plain float formats are blocks of one value). Rows are processed
 * block by block through a small heap buffer, so a call writes exactly {@code count / blockSize * bytesPerBlock}
 * bytes at {@code dstOff} and nothing else. The dequantizers are plain scalar code (the test oracle of the vectorized
 * kernels), not fast paths.
 *
 * <p>Inputs must be finite and small enough that a block's scale fits a half float; anything else is an
 * {@link IllegalArgumentException} rather than a block of infinities.
 *
 * <p>Subclasses live in this package only; each is referenced from its row of the engine's type table.
 */
public abstract class BlockCodec {

    /** Blocks converted per heap buffer: bounds the buffer to a few KB whatever the row length. */
    private static final int CHUNK_BLOCKS = 64;

    private final String name;
    private final int blockSize;
    private final int bytesPerBlock;

    BlockCodec(String name, int blockSize, int bytesPerBlock) {
        this.name = name;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** ggml's name of the format, e.g. {@code Q4_K}. */
    public final String name() {
        return name;
    }

    /** Values per block (1 for the plain float formats). */
    public final int blockSize() {
        return blockSize;
    }

    public final int bytesPerBlock() {
        return bytesPerBlock;
    }

    /**
     * Quantizes {@code src[off, off + count)} into {@code count / blockSize} blocks written at byte {@code dstOff}
     * of {@code dst}; {@code count} must be a multiple of the block size.
     */
    public final void quantize(float[] src, int off, int count, MemorySegment dst, long dstOff) {
        int blocks = blocks(count);
        Objects.checkFromIndexSize(off, count, src.length);
        Objects.checkFromIndexSize(dstOff, (long) blocks * bytesPerBlock, dst.byteSize());
        encode(src, off, blocks, dst, dstOff);
    }

    /**
     * Decodes the {@code count / blockSize} blocks at byte {@code srcOff} of {@code src} into
     * {@code dst[off, off + count)}; {@code count} must be a multiple of the block size.
     */
    public final void dequantize(MemorySegment src, long srcOff, float[] dst, int off, int count) {
        int blocks = blocks(count);
        Objects.checkFromIndexSize(off, count, dst.length);
        Objects.checkFromIndexSize(srcOff, (long) blocks * bytesPerBlock, src.byteSize());
        decode(src, srcOff, dst, off, blocks);
    }

    /** Encodes {@code blocks} blocks (arguments checked); the float formats write whole rows directly instead. */
    void encode(float[] src, int off, int blocks, MemorySegment dst, long dstOff) {
        byte[] buf = new byte[Math.min(blocks, CHUNK_BLOCKS) * bytesPerBlock];
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int n = Math.min(CHUNK_BLOCKS, blocks - b0);
            for (int b = 0; b < n; b++) {
                quantizeBlock(src, off + (b0 + b) * blockSize, buf, b * bytesPerBlock);
            }
            MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, dstOff + (long) b0 * bytesPerBlock, n * bytesPerBlock);
        }
    }

    /** Decodes {@code blocks} blocks (arguments checked). */
    void decode(MemorySegment src, long srcOff, float[] dst, int off, int blocks) {
        byte[] buf = new byte[Math.min(blocks, CHUNK_BLOCKS) * bytesPerBlock];
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int n = Math.min(CHUNK_BLOCKS, blocks - b0);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOff + (long) b0 * bytesPerBlock, buf, 0, n * bytesPerBlock);
            for (int b = 0; b < n; b++) {
                dequantizeBlock(buf, b * bytesPerBlock, dst, off + (b0 + b) * blockSize);
            }
        }
    }

    private int blocks(int count) {
        if (count < 0 || count % blockSize != 0) {
            throw new IllegalArgumentException(count + " values is not a whole number of " + name + " blocks of " + blockSize);
        }
        return count / blockSize;
    }

    /** Encodes the {@code blockSize} values at {@code x[xOff]} as one block at {@code out[outOff]}. */
    abstract void quantizeBlock(float[] x, int xOff, byte[] out, int outOff);

    /** Decodes the block at {@code in[inOff]} into {@code y[yOff, yOff + blockSize)}. */
    abstract void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff);

    @Override
    public String toString() {
        return name + " codec";
    }
}
