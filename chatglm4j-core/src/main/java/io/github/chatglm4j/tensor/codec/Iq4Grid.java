package io.github.chatglm4j.tensor.codec;

/**
 * The non-linear 4-bit grid of IQ4_NL and IQ4_XS ({@code kvalues_iq4nl}: a value is {@code d·GRID[q]}) and ggml's
 * scale search for a group of 32 weights on it, without an importance matrix (weights {@code x²}), as llama-quantize
 * runs it ({@code quantize_iq4_nl}/{@code quantize_iq4_xs}, 7 extra tries on each side).
 */
final class Iq4Grid {
    /** The 16 levels, ascending. */
    static final int[] GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private static final int TRIES = 7;

    private Iq4Grid() {
    }

    /** Index of the grid level nearest to {@code v} (the upper one on a tie), by bisection as ggml does. */
    static int nearest(float v) {
        if (v <= GRID[0]) {
            return 0;
        }
        if (v >= GRID[15]) {
            return 15;
        }
        int lo = 0;
        int hi = 15;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (v < GRID[mid]) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return v - GRID[hi - 1] < GRID[hi] - v ? hi - 1 : hi;
    }

    /**
     * The scale of the 32 weights at {@code x[xOff]}: from the largest magnitude ({@code d = max/127}), the
     * least-squares scale of its levels, then of the levels of {@code 2·7 + 1} nearby spacings
     * {@code (t - 127)/max}, keeping the one that explains the most ({@code sumqx²/sumq2}); 0 for an all-zero group.
     */
    static float scale(float[] x, int xOff) {
        float max = Bits.largestMagnitude(x, xOff, 32);
        if (Math.abs(max) < KQuantFits.GROUP_MAX_EPS) {
            return 0;
        }
        float d = -max / GRID[0];
        float id = 1 / d;
        float sumQX = 0;
        float sumQ2 = 0;
        for (int j = 0; j < 32; j++) {
            float xj = x[xOff + j];
            float q = GRID[nearest(id * xj)];
            float w = xj * xj;
            sumQX += w * q * xj;
            sumQ2 += w * q * q;
        }
        d = sumQX / sumQ2;
        float best = d * sumQX;
        for (int t = -TRIES; t <= TRIES; t++) {
            id = (t + GRID[0]) / max;
            sumQX = 0;
            sumQ2 = 0;
            for (int j = 0; j < 32; j++) {
                float xj = x[xOff + j];
                float q = GRID[nearest(id * xj)];
                float w = xj * xj;
                sumQX += w * q * xj;
                sumQ2 += w * q * q;
            }
            if (sumQ2 > 0 && sumQX * sumQX > best * sumQ2) {
                d = sumQX / sumQ2;
                best = d * sumQX;
            }
        }
        return d;
    }

    /** Packs the 32 levels of group {@code g} (weight {@code i} low nibble, {@code i + 16} high) at {@code out[off]}. */
    static void pack(int[] levels, int g, byte[] out, int off) {
        for (int j = 0; j < 16; j++) {
            out[off + j] = (byte) (levels[32 * g + j] | levels[32 * g + 16 + j] << 4);
        }
    }
}
