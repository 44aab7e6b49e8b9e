package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Converts rows of floats to and from every {@link TensorType}, little-endian: F32 as is, F16 and BF16 rounded to
 * nearest even, the block types through their {@link BlockCodec}. These are plain scalar loops, meant for writing
 * files, load-time quantization and as the oracle for the vectorized kernels.
 */
public final class Quantization {
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quantization() {
    }

    /**
     * Writes {@code src[srcOffset, srcOffset + count)} as {@code type} at byte {@code dstOffset} of {@code dst},
     * exactly {@code type.byteSize(count)} bytes; for block types {@code count} must be a multiple of the block
     * size. Block quantizers reject non-finite values and values whose block scale overflows a half float.
     */
    public static void quantizeRow(TensorType type, float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        Objects.requireNonNull(type, "type");
        if (type.isQuantized()) {
            BlockCodec.of(type).quantize(src, srcOffset, count, dst, dstOffset);
            return;
        }
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        Objects.checkFromIndexSize(dstOffset, type.byteSize(count), dst.byteSize());
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOffset, dst, FLOAT_LE, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(SHORT_LE, dstOffset + 2L * i, Float.floatToFloat16(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(SHORT_LE, dstOffset + 2L * i, toBf16(src[srcOffset + i]));
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /**
     * Decodes {@code count} values of {@code type} stored at byte {@code srcOffset} of {@code src} into
     * {@code dst[dstOffset, dstOffset + count)}; for block types {@code count} must be a multiple of the block size.
     */
    public static void dequantizeRow(TensorType type, MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
        Objects.requireNonNull(type, "type");
        if (type.isQuantized()) {
            BlockCodec.of(type).dequantize(src, srcOffset, dst, dstOffset, count);
            return;
        }
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        Objects.checkFromIndexSize(srcOffset, type.byteSize(count), src.byteSize());
        switch (type) {
            case F32 -> MemorySegment.copy(src, FLOAT_LE, srcOffset, dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(src.get(SHORT_LE, srcOffset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat(src.get(SHORT_LE, srcOffset + 2L * i) << 16);
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /** The bfloat16 bits of {@code v}, rounded to nearest even; NaN stays a (quiet) NaN. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
