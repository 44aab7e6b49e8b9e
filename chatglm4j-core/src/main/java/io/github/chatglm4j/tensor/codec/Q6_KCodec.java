package io.github.chatglm4j.tensor.codec;

import java.util.Arrays;

/**
 * Q6_K: 256 weights as 128 bytes of low nibbles, 64 bytes of high bit pairs, 16 signed 8-bit sub-block scales and
 * a half {@code d} (last); {@code w = d·scale[k/16]·(q - 32)}. Within each half h (weights {@code 128h..128h+127}),
 * for {@code l < 32}: weights {@code l, l+32, l+64, l+96} take their low nibbles from {@code ql[64h+l]} low,
 * {@code ql[64h+l+32]} low, {@code ql[64h+l]} high, {@code ql[64h+l+32]} high and their high pairs from bits 0-1,
 * 2-3, 4-5, 6-7 of {@code qh[32h+l]}.
 *
 * <p>The quantizer is ggml's {@code quantize_row_q6_K_ref}, byte for byte: per sub-block of 16 the
 * {@link KQuantFits#symmetric} fit with 32 levels on each side, the 16 scales quantized to int8 against the one of
 * largest magnitude ({@code d = max/-128}), and the levels recomputed from the rounded scales.
 */
final class Q6_KCodec extends BlockCodec {
    private static final int QK = 256;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    Q6_KCodec() {
        super("Q6_K", 256, 210);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, QK);
        int[] q = new int[QK];
        float[] scales = new float[16];
        for (int j = 0; j < 16; j++) {
            scales[j] = KQuantFits.symmetric(16, 32, x, xOff + 16 * j, q, 16 * j);
        }
        float maxScale = Bits.largestMagnitude(scales, 0, 16);
        if (Math.abs(maxScale) < KQuantFits.GROUP_MAX_EPS) {
            Arrays.fill(out, outOff, outOff + 210, (byte) 0);
            return;
        }
        float iscale = -128f / maxScale;
        short dBits = Bits.toHalf(1 / iscale, x, xOff, QK);
        for (int j = 0; j < 16; j++) {
            out[outOff + SCALES + j] = (byte) Math.min(127, KQuantFits.nearestInt(iscale * scales[j]));
        }
        float d = Float.float16ToFloat(dBits);
        for (int j = 0; j < 16; j++) {
            float dl = d * out[outOff + SCALES + j];
            if (dl == 0) {
                continue; // the sub-block keeps the levels of its fit
            }
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = Math.clamp(KQuantFits.nearestInt(x[xOff + 16 * j + i] / dl), -32, 31) + 32;
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int w = 128 * h + l;
                int q0 = q[w];
                int q1 = q[w + 32];
                int q2 = q[w + 64];
                int q3 = q[w + 96];
                out[outOff + 64 * h + l] = (byte) ((q0 & 0x0F) | (q2 & 0x0F) << 4);
                out[outOff + 64 * h + l + 32] = (byte) ((q1 & 0x0F) | (q3 & 0x0F) << 4);
                out[outOff + QH + 32 * h + l] = (byte) ((q0 >> 4) | (q1 >> 4) << 2 | (q2 >> 4) << 4 | (q3 >> 4) << 6);
            }
        }
        Bits.putShort(out, outOff + D, dBits);
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff + D);
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int lo0 = in[inOff + 64 * h + l] & 0xFF;
                int lo1 = in[inOff + 64 * h + l + 32] & 0xFF;
                int hi = in[inOff + QH + 32 * h + l] & 0xFF;
                int[] q = {
                        (lo0 & 0x0F) | (hi & 3) << 4,
                        (lo1 & 0x0F) | (hi >> 2 & 3) << 4,
                        (lo0 >> 4) | (hi >> 4 & 3) << 4,
                        (lo1 >> 4) | (hi >> 6 & 3) << 4};
                for (int s = 0; s < 4; s++) {
                    int w = 128 * h + 32 * s + l;
                    float dl = d * in[inOff + SCALES + w / 16];
                    y[yOff + w] = dl * (q[s] - 32);
                }
            }
        }
    }
}
