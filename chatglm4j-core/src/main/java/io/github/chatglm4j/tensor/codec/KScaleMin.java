package io.github.chatglm4j.tensor.codec;

/**
 * The header shared by Q4_K and Q5_K: half {@code d}, half {@code dmin} and 12 bytes holding eight 6-bit
 * (scale, min) pairs, one per sub-block of 32; sub-block j decodes as {@code w = d·scale[j]·q - dmin·min[j]}.
 *
 * <p>The fit is a plain min/max one, not ggml's iterative search: each sub-block's range {@code [lo, hi]} (with
 * {@code lo <= 0}, since the offset is only ever subtracted) is covered with both 6-bit factors rounded up, so no
 * value is clamped and every weight is within half a step {@code d·scale[j]} of its input, that step being at most
 * {@code (hi - lo + dmin) / maxQ + d}.
 */
final class KScaleMin {
    static final int SUPER = 256;
    static final int SUB = 32;
    static final int HEADER = 16;

    private KScaleMin() {
    }

    /** Writes the header at {@code out[outOff, outOff + 16)} and the levels {@code 0..maxQ} into {@code q[0, 256)}. */
    static void fit(float[] x, int xOff, int maxQ, int[] q, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, SUPER);
        float[] lo = new float[8];
        float[] hi = new float[8];
        float maxNeg = 0;
        for (int j = 0; j < 8; j++) {
            float l = 0;
            float h = -Float.MAX_VALUE;
            for (int i = 0; i < SUB; i++) {
                float v = x[xOff + j * SUB + i];
                l = Math.min(l, v);
                h = Math.max(h, v);
            }
            lo[j] = l;
            hi[j] = h;
            maxNeg = Math.max(maxNeg, -l);
        }
        short dminBits = Bits.halfAtLeast(maxNeg / 63, x, xOff, SUPER);
        float dmin = Float.float16ToFloat(dminBits);
        int[] mins = new int[8];
        float[] offset = new float[8];
        float[] step = new float[8];
        float maxStep = 0;
        for (int j = 0; j < 8; j++) {
            mins[j] = dmin > 0 ? Math.min(63, (int) Math.ceil(-lo[j] / dmin)) : 0;
            offset[j] = dmin * mins[j];
            step[j] = (hi[j] + offset[j]) / maxQ;
            maxStep = Math.max(maxStep, step[j]);
        }
        short dBits = Bits.halfAtLeast(maxStep / 63, x, xOff, SUPER);
        float d = Float.float16ToFloat(dBits);
        int[] scales = new int[8];
        for (int j = 0; j < 8; j++) {
            scales[j] = d > 0 ? Math.min(63, (int) Math.ceil(step[j] / d)) : 0;
            float dl = d * scales[j];
            for (int i = 0; i < SUB; i++) {
                int k = j * SUB + i;
                q[k] = dl > 0 ? Math.clamp(Math.round((x[xOff + k] + offset[j]) / dl), 0, maxQ) : 0;
            }
        }
        Bits.putShort(out, outOff, dBits);
        Bits.putShort(out, outOff + 2, dminBits);
        for (int j = 0; j < 4; j++) {
            out[outOff + 4 + j] = (byte) (scales[j] | (scales[j + 4] >> 4) << 6);
            out[outOff + 8 + j] = (byte) (mins[j] | (mins[j + 4] >> 4) << 6);
            out[outOff + 12 + j] = (byte) ((scales[j + 4] & 0x0F) | (mins[j + 4] & 0x0F) << 4);
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
