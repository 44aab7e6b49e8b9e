package io.github.chatglm4j.tensor.codec;

/**
 * Q6_K: 256 weights as 128 bytes of low nibbles, 64 bytes of high bit pairs, 16 signed 8-bit sub-block scales and
 * a half {@code d} (last); {@code w = d·scale[k/16]·(q - 32)}. Within each half h (weights {@code 128h..128h+127}),
 * for {@code l < 32}: weights {@code l, l+32, l+64, l+96} take their low nibbles from {@code ql[64h+l]} low,
 * {@code ql[64h+l+32]} low, {@code ql[64h+l]} high, {@code ql[64h+l+32]} high and their high pairs from bits 0-1,
 * 2-3, 4-5, 6-7 of {@code qh[32h+l]}.
 *
 * <p>The quantizer is a plain max-abs fit, not ggml's search: each sub-block of 16 gets the step
 * {@code max|x| / 31} rounded up onto {@code d·scale} (scale in 1..127), so nothing is clamped and every weight is
 * within half a step, the step being at most {@code max|x| / 31 + d}.
 */
public final class Q6_KCodec extends BlockCodec {
    private static final int QK = 256;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    public Q6_KCodec() {
        super("Q6_K", 256, 210);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, QK);
        float[] step = new float[16];
        float maxStep = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                amax = Math.max(amax, Math.abs(x[xOff + 16 * j + i]));
            }
            step[j] = amax / 31;
            maxStep = Math.max(maxStep, step[j]);
        }
        short dBits = Bits.halfAtLeast(maxStep / 127, x, xOff, QK);
        float d = Float.float16ToFloat(dBits);
        int[] q = new int[QK];
        for (int j = 0; j < 16; j++) {
            int sc = d > 0 ? Math.min(127, (int) Math.ceil(step[j] / d)) : 0;
            out[outOff + SCALES + j] = (byte) sc;
            float dl = d * sc;
            for (int i = 0; i < 16; i++) {
                int k = 16 * j + i;
                q[k] = (dl > 0 ? Math.clamp(Math.round(x[xOff + k] / dl), -32, 31) : 0) + 32;
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
