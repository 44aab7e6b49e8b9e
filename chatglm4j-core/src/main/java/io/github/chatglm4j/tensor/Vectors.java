package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Small helpers for 1-D tensors. */
public final class Vectors {

    private Vectors() {
    }

    /**
     * Reads a 1-D tensor (norm weight, bias) of {@code n} values of {@code type} into a new float[], converting
     * F16/BF16 exactly and dequantizing block types. The segment must hold exactly {@code n} values.
     */
    public static float[] toFloatArray(MemorySegment data, TensorType type, int n) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
        if (n < 0) {
            throw new IllegalArgumentException("element count must not be negative, got " + n);
        }
        long expected = type.byteSize(n);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(n + " values of " + type + " need " + expected
                    + " bytes, the segment has " + data.byteSize());
        }
        float[] out = new float[n];
        Decode.row(type, data, 0, out, 0, n);
        return out;
    }
}
