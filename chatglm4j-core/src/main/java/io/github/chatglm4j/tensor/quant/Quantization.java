package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Converts rows of floats to and from every {@link TensorType} through its codec, little-endian: F32 as is, F16 and
 * BF16 rounded to nearest even, the block types quantized as ggml's reference quantizers do. These are plain scalar
 * loops, meant for writing files, load-time quantization and as the oracle for the vectorized kernels.
 */
public final class Quantization {

    private Quantization() {
    }

    /**
     * Writes {@code src[srcOffset, srcOffset + count)} as {@code type} at byte {@code dstOffset} of {@code dst},
     * exactly {@code type.byteSize(count)} bytes; for block types {@code count} must be a multiple of the block
     * size. Block quantizers reject non-finite values and values whose block scale overflows a half float.
     */
    public static void quantizeRow(TensorType type, float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        Objects.requireNonNull(type, "type").codec().quantize(src, srcOffset, count, dst, dstOffset);
    }

    /**
     * Decodes {@code count} values of {@code type} stored at byte {@code srcOffset} of {@code src} into
     * {@code dst[dstOffset, dstOffset + count)}; for block types {@code count} must be a multiple of the block size.
     */
    public static void dequantizeRow(TensorType type, MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
        Objects.requireNonNull(type, "type").codec().dequantize(src, srcOffset, dst, dstOffset, count);
    }
}
