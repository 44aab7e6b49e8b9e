package io.github.chatglm4j.tensor.codec;

/** Little-endian fields of a block in a byte[], half floats, and the rounding rules the quantizers share. */
final class Bits {
    private Bits() {
    }

    static float half(byte[] b, int off) {
        return Float.float16ToFloat((short) ((b[off] & 0xFF) | b[off + 1] << 8));
    }

    static void putShort(byte[] b, int off, short v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
    }

    static int getInt(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
        b[off + 2] = (byte) (v >> 16);
        b[off + 3] = (byte) (v >> 24);
    }

    /**
     * The half-float bits of a block scale (round to nearest even, as ggml's FP32_TO_FP16); a scale beyond the half
     * range would decode every weight of the block as infinity, so it is refused.
     */
    static short toHalf(float scale, float[] x, int xOff, int n) {
        short h = Float.floatToFloat16(scale);
        if (Float.isInfinite(Float.float16ToFloat(h))) {
            throw new IllegalArgumentException("values up to " + maxAbs(x, xOff, n) + " in the block at index " + xOff
                    + " are too large for a half-float block scale");
        }
        return h;
    }

    /** The smallest half float {@code >= v} (for {@code v >= 0}), so that a scale rounded to half never shrinks. */
    static short halfAtLeast(float v, float[] x, int xOff, int n) {
        short h = toHalf(v, x, xOff, n);
        if (Float.float16ToFloat(h) < v) {
            h++;
            if (Float.isInfinite(Float.float16ToFloat(h))) {
                return toHalf(Float.POSITIVE_INFINITY, x, xOff, n);
            }
        }
        return h;
    }

    /**
     * C {@code roundf} for {@code |v| < 2^31}: halves go away from zero (unlike {@link Math#round}, which goes up,
     * and rint, to even). Not {@code (int) (|v| + 0.5f)}: that sum rounds 0.49999997 up to 1.
     */
    static int roundHalfAway(float v) {
        float a = Math.abs(v);
        int f = (int) a;
        int r = a - f >= 0.5f ? f + 1 : f; // a - f is exact
        return v < 0 ? -r : r;
    }

    /** Rejects NaN and infinities, which no block format can hold. */
    static void requireFinite(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            if (!Float.isFinite(x[i])) {
                throw new IllegalArgumentException("cannot quantize the non-finite value " + x[i] + " at index " + i);
            }
        }
    }

    /**
     * {@link #requireFinite}, and small enough for the K-quant and IQ4 searches, which square values: beyond 2^60 their
     * float sums overflow (and no half-float block scale could hold such a block anyway), so it is refused.
     */
    static void requireSearchable(float[] x, int off, int n) {
        requireFinite(x, off, n);
        if (maxAbs(x, off, n) > 0x1p60f) {
            toHalf(Float.POSITIVE_INFINITY, x, off, n);
        }
    }

    /**
     * The first of {@code x[off .. off+n)} with the largest magnitude, sign kept, as ggml's quantizers search for it
     * (a strictly larger magnitude replaces it, so ties keep the first); 0 when every value is ±0.
     */
    static float largestMagnitude(float[] x, int off, int n) {
        float amax = 0;
        float max = 0;
        for (int i = off; i < off + n; i++) {
            float ax = Math.abs(x[i]);
            if (ax > amax) {
                amax = ax;
                max = x[i];
            }
        }
        return max;
    }

    /** The largest magnitude in {@code x[off .. off+n)} (0 for none). */
    static float maxAbs(float[] x, int off, int n) {
        float m = 0;
        for (int i = off; i < off + n; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }
}
