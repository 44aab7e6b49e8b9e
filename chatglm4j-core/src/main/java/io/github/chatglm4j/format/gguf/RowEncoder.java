package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;

/**
 * Stores float values in a tensor type: plain conversion for F32/F16/BF16, quantization for the block types.
 * Implementations must be thread-safe: converters encode several rows at once.
 */
@FunctionalInterface
public interface RowEncoder {

    /**
     * Encodes {@code src[srcOffset, srcOffset + count)} as {@code type} into {@code dst} at {@code dstOffset},
     * writing exactly {@code type.byteSize(count)} bytes, little-endian ({@code count} is a whole number of blocks).
     *
     * @throws UnsupportedOperationException if this encoder cannot produce {@code type}
     */
    void encode(TensorType type, float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset);

    /** The encoder for F32, F16 (IEEE round to nearest even) and BF16 (round to nearest even, as PyTorch). */
    static RowEncoder floats() {
        return FloatRowEncoder.INSTANCE;
    }
}
