package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.Test;

class VectorsTest {

    @Test
    void everyFiniteF16DecodesExactly() {
        checkAllFinite(TensorType.F16, 0x7C00, ReferenceMath::f16);
    }

    @Test
    void everyFiniteBf16DecodesExactly() {
        checkAllFinite(TensorType.BF16, 0x7F80, ReferenceMath::bf16);
    }

    @Test
    void f16SpecialValues() {
        short[] bits = {0x0001, (short) 0x8001, 0x03FF, 0x0400, 0x7BFF, (short) 0xFBFF, (short) 0x8000, 0x0000, 0x3C00};
        float[] expected = {0x1p-24f, -0x1p-24f, 0x3FFp-24f, 0x1p-14f, 65504f, -65504f, -0.0f, 0.0f, 1.0f};
        for (int repeat : new int[] {1, 2}) { // once through the scalar tail only, once through the vector path too
            try (Arena arena = Arena.ofConfined()) {
                int n = bits.length * repeat;
                MemorySegment data = arena.allocate(2L * n);
                for (int i = 0; i < n; i++) {
                    data.set(ReferenceMath.SHORT_LE, 2L * i, bits[i % bits.length]);
                }
                float[] values = Vectors.toFloatArray(data, TensorType.F16, n);
                for (int i = 0; i < n; i++) {
                    assertThat(Float.floatToRawIntBits(values[i]))
                            .as("F16 0x%04x at %d: expected %s, got %s", bits[i % bits.length], i, expected[i % bits.length], values[i])
                            .isEqualTo(Float.floatToRawIntBits(expected[i % bits.length]));
                }
            }
        }
    }

    @Test
    void f32IsCopiedBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = ReferenceMath.randomTensor(arena, TensorType.F32, 37, new Random(3));
            float[] values = Vectors.toFloatArray(data, TensorType.F32, 37);
            for (int i = 0; i < 37; i++) {
                assertThat(Float.floatToRawIntBits(values[i])).as("element %d", i)
                        .isEqualTo(Float.floatToRawIntBits(data.get(ReferenceMath.FLOAT_LE, 4L * i)));
            }
        }
    }

    @Test
    void rejectsSegmentOfWrongSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(10);
            assertThatThrownBy(() -> Vectors.toFloatArray(data, TensorType.F32, 3))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("3 values of F32 need 12 bytes, the segment has 10");
            assertThat(Vectors.toFloatArray(data, TensorType.BF16, 5)).hasSize(5);
        }
    }

    /** Decodes all finite patterns below {@code limit} and their negatives, in an order that mixes magnitudes. */
    private static void checkAllFinite(TensorType type, int limit, IntToDoubleFunction oracle) {
        int n = 2 * limit + 3; // odd, so the scalar tail is used as well
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(2L * n);
            int[] pattern = new int[n];
            for (int i = 0; i < n; i++) {
                int magnitude = (int) ((long) i * 7919 % limit);
                pattern[i] = i % 2 == 0 ? magnitude : magnitude | 0x8000;
                data.set(ReferenceMath.SHORT_LE, 2L * i, (short) pattern[i]);
            }
            float[] values = Vectors.toFloatArray(data, type, n);
            for (int i = 0; i < n; i++) {
                float expected = (float) oracle.applyAsDouble(pattern[i]);
                if (Float.floatToRawIntBits(values[i]) != Float.floatToRawIntBits(expected)) {
                    fail(String.format("%s 0x%04x at %d: expected %s, got %s", type, pattern[i], i, expected, values[i]));
                }
            }
        }
    }
}
