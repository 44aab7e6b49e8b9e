package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.safetensors.SafetensorsFile;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The float encoder: IEEE half and PyTorch's bfloat16 rounding, checked on hand-computed bit patterns and fixture weights. */
class FloatRowEncoderTest {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static short[] encode(TensorType type, float... values) {
        MemorySegment dst = MemorySegment.ofArray(new byte[2 * values.length + 6]);
        RowEncoder.floats().encode(type, values, 0, values.length, dst, 3);
        short[] out = new short[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = dst.get(SHORT, 3 + 2L * i);
        }
        return out;
    }

    private static float bits(int b) {
        return Float.intBitsToFloat(b);
    }

    @Test
    void bf16RoundsToNearestEvenLikePytorch() {
        short[] got = encode(TensorType.BF16,
                1f,                  // exact
                bits(0x3F808000),    // halfway, lower neighbour even: down
                bits(0x3F818000),    // halfway, lower neighbour odd: up
                bits(0x3F808001),    // just above halfway: up
                bits(0x3F807FFF),    // just below halfway: down
                -2.5f,               // exact negative
                Float.NaN,
                Float.POSITIVE_INFINITY,
                bits(0x7F7FFFFF));   // the largest float rounds up to infinity, as in PyTorch
        assertThat(got).containsExactly((short) 0x3F80, (short) 0x3F80, (short) 0x3F82, (short) 0x3F81, (short) 0x3F80,
                (short) 0xC020, (short) 0x7FC0, (short) 0x7F80, (short) 0x7F80);
    }

    @Test
    void f16IsIeeeHalf() {
        short[] got = encode(TensorType.F16, 1f, 65504f, 65520f, 0x1p-24f, 1f / 3, -0f);
        assertThat(got).containsExactly((short) 0x3C00, (short) 0x7BFF, (short) 0x7C00, (short) 0x0001, (short) 0x3555, (short) 0x8000);
    }

    @Test
    void f32IsCopiedLittleEndian() {
        MemorySegment dst = MemorySegment.ofArray(new byte[8]);
        RowEncoder.floats().encode(TensorType.F32, new float[]{9f, 1.5f, 7f}, 1, 1, dst, 4);
        assertThat(dst.toArray(ValueLayout.JAVA_BYTE)).containsExactly(0, 0, 0, 0, 0, 0, (byte) 0xC0, 0x3F);
    }

    @Test
    void bf16WeightsOfTheFixtureSurviveDecodeAndEncodeBitForBit() {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.tinyModel32k().resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            long checked = 0;
            for (TensorEntry t : f.tensors()) {
                assertThat(t.type()).isEqualTo(TensorType.BF16);
                int n = (int) t.elementCount();
                float[] values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = Float.intBitsToFloat(t.data().get(SHORT, 2L * i) << 16);
                }
                MemorySegment dst = arena.allocate(2L * n);
                RowEncoder.floats().encode(TensorType.BF16, values, 0, n, dst, 0);
                assertThat(dst.mismatch(t.data())).as("first differing byte of %s", t.name()).isEqualTo(-1L);
                checked += n;
            }
            assertThat(checked).isGreaterThan(8_000_000);
        }
    }

    @Test
    void quantizedTypesNeedAnotherEncoder() {
        assertThatThrownBy(() -> RowEncoder.floats().encode(TensorType.Q8_0, new float[32], 0, 32, MemorySegment.ofArray(new byte[34]), 0))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("Q8_0 is a quantized type");
    }
}
