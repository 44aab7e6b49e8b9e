package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.codec.Codecs;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rounding details that decide single bytes, each against its definition: C roundf for Q8_0, {@code x·id}
 * rounded to float before the bias is added for Q4_0 and Q5_0 (llama.cpp's compiled quantizer does not fuse them:
 * {@code llama-quantize} wrote blk.0.ffn_up row 480 block 2 of the pure-Q4_0 fixture that way, while gguf-py's
 * float64 port would fuse), the first largest magnitude as Q4_0's sign, and round-to-nearest-even for F16 and BF16
 * rows.
 */
class RoundingRulesTest {

    private static byte[] quantize(TensorType type, float[] x) {
        byte[] out = new byte[(int) type.byteSize(x.length)];
        Quantization.quantizeRow(type, x, 0, x.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    @Test
    void q8_0RoundsHalvesAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127; // d = 1, so q = roundf(x)
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        x[5] = Math.nextDown(0.5f);
        x[6] = 3.5f;
        byte[] b = quantize(TensorType.Q8_0, x);
        assertThat(new int[]{b[2], b[3], b[4], b[5], b[6], b[7], b[8]})
                .as("roundf of 127, 2.5, -2.5, 0.5, -0.5, 0.49999997, 3.5")
                .containsExactly(127, 3, -3, 1, -1, 0, 4);
        assertThat(b[0] | b[1] << 8).as("half 1.0").isEqualTo(0x3C00);
    }

    @Test
    void q4_0TakesTheSignOfTheFirstLargestMagnitude() {
        float[] x = new float[32];
        x[3] = -2;
        x[7] = 2;
        byte[] b = quantize(TensorType.Q4_0, x);
        assertThat((b[0] & 0xFF) | (b[1] & 0xFF) << 8).as("d = -2 / -8 = 0.25 as half").isEqualTo(0x3400);
        x[3] = 2;
        x[7] = -2;
        b = quantize(TensorType.Q4_0, x);
        assertThat((b[0] & 0xFF) | (b[1] & 0xFF) << 8).as("d = 2 / -8 = -0.25 as half").isEqualTo(0xB400);
        // x = -d·8 maps to 16, clamped to 15
        assertThat((b[2 + 3] & 0x0F)).as("level of the largest value").isEqualTo(0);
        assertThat((b[2 + 7] & 0x0F)).as("level of its negation, clamped").isEqualTo(15);
    }

    @Test
    void q4_0AndQ5_0RoundTheProductBeforeAddingTheBias() {
        checkUnfusedRounding(TensorType.Q4_0, 8, 15);
        checkUnfusedRounding(TensorType.Q5_0, 16, 31);
    }

    /**
     * Builds blocks whose values sit within a few ulps of a level boundary, where rounding {@code x·id} before adding
     * the bias can cross it; the level must be {@code trunc(float(x·id) + (bias + 0.5))}, not the fused form.
     */
    private static void checkUnfusedRounding(TensorType type, int bias, int maxLevel) {
        Random rnd = new Random(42);
        int discriminating = 0;
        for (int trial = 0; trial < 200; trial++) {
            float m = (float) (0.5 + rnd.nextDouble() * 3);
            float d = m / -bias;
            float id = 1 / d;
            float[] x = new float[32];
            x[0] = m;
            for (int j = 1; j < 32; j++) {
                int k = 1 + rnd.nextInt(maxLevel - 1);
                float center = (k - bias - 0.5f) / id;
                x[j] = center;
                for (int u = -6; u <= 6; u++) { // prefer a value where the two roundings disagree
                    float c = center + u * Math.ulp(center);
                    if ((int) (c * id + (bias + 0.5f)) != (int) Math.fma(c, id, bias + 0.5f) && Math.abs(c) < Math.abs(m)) {
                        x[j] = c;
                        discriminating++;
                        break;
                    }
                }
            }
            byte[] b = quantize(type, x);
            int qsOff = type == TensorType.Q4_0 ? 2 : 6;
            int qh = type == TensorType.Q5_0 ? java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(2) : 0;
            for (int j = 0; j < 32; j++) {
                int nib = j < 16 ? b[qsOff + j] & 0x0F : (b[qsOff + j - 16] & 0xFF) >> 4;
                int level = nib | ((qh >>> j) & 1) << 4;
                float product = x[j] * id;
                int want = Math.min(maxLevel, (int) (product + (bias + 0.5f)));
                assertThat(level).as("%s level of x = %s with id = %s (trial %d, element %d)", type, x[j], id, trial, j)
                        .isEqualTo(want);
            }
        }
        assertThat(discriminating).as("values where the fused form would give another level").isGreaterThan(50);
    }

    @Test
    void bf16RoundsToNearestEven() {
        Random rnd = new Random(3);
        for (int i = 0; i < 100_000; i++) {
            int bits = rnd.nextInt();
            if (i % 4 == 0) {
                bits = (bits & 0xFFFF_0000) | 0x8000; // an exact tie
            }
            float v = Float.intBitsToFloat(bits);
            if (!Float.isFinite(v)) {
                continue;
            }
            short got = Codecs.toBf16(v);
            int lo = bits >>> 16;
            double below = Float.intBitsToFloat(lo << 16);
            double above = Float.intBitsToFloat((lo + 1) << 16); // next magnitude up
            if (Double.isInfinite(above)) {
                above = Math.copySign(0x1p128, v); // IEEE rounds to infinity from where 2^128 would be nearer
            }
            double dBelow = Math.abs(v - below);
            double dAbove = Math.abs(above - v);
            int want = dBelow < dAbove || dBelow == dAbove && (lo & 1) == 0 ? lo : lo + 1;
            assertThat(got & 0xFFFF).as("bf16 of %s (bits %08x)", v, bits).isEqualTo(want & 0xFFFF);
        }
        assertThat(Float.isNaN(Float.intBitsToFloat(Codecs.toBf16(Float.NaN) << 16))).as("NaN stays NaN").isTrue();
        assertThat(Float.isNaN(Float.intBitsToFloat(Codecs.toBf16(Float.intBitsToFloat(0x7F80_0001)) << 16)))
                .as("a NaN with only low payload bits does not become infinity").isTrue();
    }

    @Test
    void plainTypeRowsAreLittleEndian() {
        float[] x = {1.0f, -2.0f, 0.1f};
        byte[] f16 = quantize(TensorType.F16, x);
        assertThat(f16).containsExactly(0x00, 0x3C, 0x00, (byte) 0xC0, 0x66, 0x2E); // 0.1 -> 0x2E66
        byte[] bf16 = quantize(TensorType.BF16, x);
        assertThat(bf16).containsExactly(0x80, 0x3F, 0x00, (byte) 0xC0, (byte) 0xCD, 0x3D); // 0.1 -> 0x3DCD
        byte[] f32 = quantize(TensorType.F32, x);
        assertThat(f32).containsExactly(0x00, 0x00, (byte) 0x80, 0x3F, 0x00, 0x00, 0x00, (byte) 0xC0,
                (byte) 0xCD, (byte) 0xCC, (byte) 0xCC, 0x3D);
        for (TensorType t : new TensorType[]{TensorType.F32, TensorType.F16, TensorType.BF16}) {
            float[] back = new float[3];
            byte[] bytes = quantize(t, x);
            Quantization.dequantizeRow(t, MemorySegment.ofArray(bytes), 0, back, 0, 3);
            float tolerance = t == TensorType.F32 ? 0 : t == TensorType.F16 ? 1e-4f : 1e-3f;
            for (int i = 0; i < 3; i++) {
                assertThat(back[i]).as("%s round trip of %s", t, x[i]).isCloseTo(x[i], org.assertj.core.data.Offset.offset(tolerance));
            }
        }
    }
}
