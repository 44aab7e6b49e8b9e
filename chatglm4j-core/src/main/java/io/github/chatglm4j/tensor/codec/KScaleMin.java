package io.github.chatglm4j.tensor.codec;

/**
 * The header shared by Q4_K and Q5_K: half {@code d}, half {@code dmin} and 12 bytes holding eight 6-bit
 * (scale, min) pairs, one per sub-block of 32; sub-block j decodes as {@code w = d·scale[j]·q - dmin·min[j]}.
 *
 * <p>The fit is ggml's reference one (no importance matrix): per sub-block a {@link KQuantFits#scaleMin} search
 * weighted by {@code rms(x) + |x|}, the eight scales and mins quantized to 6 bits against the largest of each, and
 * the levels recomputed from the rounded header.
 */
final class KScaleMin {
    static final int SUPER = 256;
    static final int SUB = 32;
    static final int HEADER = 16;

    private KScaleMin() {
    }

    /**
     * Writes the header at {@code out[outOff, outOff + 16)} and the levels {@code 0..nmax} into {@code q[0, 256)};
     * {@code rmin}, {@code rdelta} and {@code nstep} are the search parameters of the type.
     */
    static void fit(float[] x, int xOff, int nmax, float rmin, float rdelta, int nstep, int[] q, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, SUPER);
        float[] weights = new float[SUB];
        float[] scales = new float[8];
        float[] mins = new float[8];
        int[] scratch = new int[SUB];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int o = xOff + SUB * j;
            float sumX2 = 0;
            for (int l = 0; l < SUB; l++) {
                sumX2 += x[o + l] * x[o + l];
            }
            float rms = (float) Math.sqrt(sumX2 / SUB); // sqrt in double rounds to the float sqrtf gives
            for (int l = 0; l < SUB; l++) {
                weights[l] = rms + Math.abs(x[o + l]);
            }
            scales[j] = KQuantFits.scaleMin(SUB, nmax, x, o, weights, q, SUB * j, scratch, rmin, rdelta, nstep, false, mins, j);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        int[] ls = new int[8];
        int[] lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, KQuantFits.nearestInt(invScale * scales[j]) & 0xFF); // ggml keeps them in a uint8_t
            lm[j] = Math.min(63, KQuantFits.nearestInt(invMin * mins[j]) & 0xFF);
        }
        short dBits = Bits.toHalf(maxScale / 63f, x, xOff, SUPER);
        short dminBits = Bits.toHalf(maxMin / 63f, x, xOff, SUPER);
        Bits.putShort(out, outOff, dBits);
        Bits.putShort(out, outOff + 2, dminBits);
        for (int j = 0; j < 4; j++) {
            out[outOff + 4 + j] = (byte) (ls[j] | (ls[j + 4] >> 4) << 6);
            out[outOff + 8 + j] = (byte) (lm[j] | (lm[j + 4] >> 4) << 6);
            out[outOff + 12 + j] = (byte) ((ls[j + 4] & 0x0F) | (lm[j + 4] & 0x0F) << 4);
        }
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 8; j++) {
            float dl = d * ls[j];
            if (dl == 0) {
                continue; // the sub-block keeps the levels of its search
            }
            float dm = dmin * lm[j];
            for (int i = 0; i < SUB; i++) {
                q[SUB * j + i] = Math.clamp(KQuantFits.nearestInt((x[xOff + SUB * j + i] + dm) / dl), 0, nmax);
            }
        }
    }

    /** {@code d·scale[j]} of the block whose header starts at {@code in[off]}. */
    static float scale(byte[] in, int off, int j) {
        int s = off + 4;
        int sc = j < 4 ? in[s + j] & 63 : (in[s + j + 4] & 0x0F) | ((in[s + j - 4] & 0xFF) >> 6) << 4;
        return Bits.half(in, off) * sc;
    }

    /** {@code dmin·min[j]} of the block whose header starts at {@code in[off]}. */
    static float min(byte[] in, int off, int j) {
        int s = off + 4;
        int m = j < 4 ? in[s + j + 4] & 63 : ((in[s + j + 4] & 0xFF) >> 4) | ((in[s + j] & 0xFF) >> 6) << 4;
        return Bits.half(in, off + 2) * m;
    }
}
