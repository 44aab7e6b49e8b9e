package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;

/**
 * Worst-case round-trip error of each block type, per element, computed from the input block alone (not from the
 * encoded bytes). For the reference types it follows from their definition: half a step from rounding (a whole
 * step where the top level is clamped: Q4_0, Q5_0), plus the half-float rounding of the scale times the largest
 * level, plus that of the minimum.
 *
 * <p>The K-quants quantize as llama.cpp does (checked byte for byte elsewhere), and llama.cpp guarantees no bound per
 * element: its least-squares search may clamp single elements (measured up to 3.3 min/max half steps) to lower the
 * weighted squared error of the sub-block. What holds is a bound on each block's RMS error: the RMS of the min/max
 * fit's half step (the sub-block range over the levels, plus the super-block scale), plus the error of rounding the
 * super-block scales to the nearest half float (2^-25 absolute among subnormals) times the largest scale and level
 * products. {@link #isRms} says which kind a type has.
 */
final class ErrorBounds {
    /** Largest error of rounding a non-negative value to a half float: relative for normals, absolute below. */
    static double halfRounding(double v) {
        return Math.max(Math.abs(v) * 0x1p-11, 0x1p-25);
    }

    /** A half float >= v: one ulp more (relative 2^-10, or 2^-24 among subnormals), with margin. */
    static double halfUp(double v) {
        return v * (1 + 0x1p-9) + 0x1p-23;
    }

    private ErrorBounds() {
    }

    /** True if {@link #of} bounds the block's RMS error, false if it bounds every element's error. */
    static boolean isRms(TensorType type) {
        return type.blockSize() == 256;
    }

    /** Allowed |x - decoded| for each element of the block at {@code x[off]} (or their RMS, see {@link #isRms}). */
    static double[] of(TensorType type, float[] x, int off) {
        int n = type.blockSize();
        double[] bound = new double[n];
        double amax = 0;
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            amax = Math.max(amax, Math.abs(x[off + i]));
            min = Math.min(min, x[off + i]);
            max = Math.max(max, x[off + i]);
        }
        // float arithmetic in quantizing and decoding: a few float ulps of the magnitudes involved
        double slack = 0x1p-18 * amax + 1e-37;
        switch (type) {
            case Q8_0 -> fill(bound, amax / 127 / 2 + 127 * halfRounding(amax / 127) + slack);
            case Q4_0 -> fill(bound, amax / 8 + 8 * halfRounding(amax / 8) + slack);
            case Q5_0 -> fill(bound, amax / 16 + 16 * halfRounding(amax / 16) + slack);
            case Q4_1 -> fill(bound, (max - min) / 15 / 2 + 15 * halfRounding((max - min) / 15) + halfRounding(min) + slack);
            case Q5_1 -> fill(bound, (max - min) / 31 / 2 + 31 * halfRounding((max - min) / 31) + halfRounding(min) + slack);
            case Q4_K -> kScaleMin(x, off, 15, bound, slack + 63 * 16 * 0x1p-25);
            case Q5_K -> kScaleMin(x, off, 31, bound, slack + 63 * 32 * 0x1p-25);
            case Q6_K -> q6k(x, off, bound, slack + 128 * 32 * 0x1p-25);
            default -> throw new IllegalArgumentException(type.toString());
        }
        return bound;
    }

    private static void kScaleMin(float[] x, int off, int levels, double[] bound, double slack) {
        double[] lo = new double[8];
        double[] hi = new double[8];
        double maxNeg = 0;
        for (int j = 0; j < 8; j++) {
            lo[j] = 0;
            hi[j] = -Double.MAX_VALUE;
            for (int i = 0; i < 32; i++) {
                lo[j] = Math.min(lo[j], x[off + 32 * j + i]);
                hi[j] = Math.max(hi[j], x[off + 32 * j + i]);
            }
            maxNeg = Math.max(maxNeg, -lo[j]);
        }
        double dmin = halfUp(maxNeg / 63);
        double[] step = new double[8];
        double maxStep = 0;
        for (int j = 0; j < 8; j++) {
            step[j] = (hi[j] - lo[j] + dmin) / levels;
            maxStep = Math.max(maxStep, step[j]);
        }
        double d = halfUp(maxStep / 63);
        for (int k = 0; k < 256; k++) {
            bound[k] = 0.5 * (step[k / 32] + d) + slack + 0x1p-18 * maxNeg;
        }
    }

    private static void q6k(float[] x, int off, double[] bound, double slack) {
        double[] step = new double[16];
        double maxStep = 0;
        for (int j = 0; j < 16; j++) {
            double a = 0;
            for (int i = 0; i < 16; i++) {
                a = Math.max(a, Math.abs(x[off + 16 * j + i]));
            }
            step[j] = a / 31;
            maxStep = Math.max(maxStep, step[j]);
        }
        double d = halfUp(maxStep / 127);
        for (int k = 0; k < 256; k++) {
            bound[k] = 0.5 * (step[k / 16] + d) + slack;
        }
    }

    private static void fill(double[] a, double v) {
        java.util.Arrays.fill(a, v);
    }
}
