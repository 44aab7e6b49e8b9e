package io.github.chatglm4j.tensor.codec;

/**
 * The scale searches of ggml's reference K-quant quantizers (without an importance matrix), so that our bytes are
 * llama.cpp's. Float details decide bytes here: every operation is float32 in ggml's order, with no fused
 * multiply-add (llama.cpp compiles its quantizers without FMA; Java never fuses), and levels are rounded half to
 * even ({@link #nearestInt}).
 */
final class KQuantFits {
    /** ggml's threshold below which a group counts as all zero. */
    static final float GROUP_MAX_EPS = 1e-15f;

    private KQuantFits() {
    }

    /**
     * ggml's {@code nearest_int}: adding 1.5·2^23 leaves the integer in the low mantissa bits, rounded half to even
     * by the float addition (valid for |v| below 2^22; like ggml, garbage beyond).
     */
    static int nearestInt(float v) {
        return (Float.floatToRawIntBits(v + 12582912f) & 0x7FFFFF) - 0x400000;
    }

    /**
     * An asymmetric fit {@code x ≈ scale·l - min} with levels {@code l} in {@code [0, nmax]} (ggml's
     * {@code make_qkx2_quants}): start from the min/max fit, then try {@code nstep + 1} other level spacings
     * {@code (rmin + rdelta·is + nmax) / (max - min)} and keep the weighted least-squares scale and min of the one with
     * the smallest weighted error (absolute with {@code useMad}, squared otherwise). A positive min is clamped to 0.
     *
     * @param levels  receives the {@code n} levels at {@code levelsOff}
     * @param scratch {@code n} ints of scratch
     * @param mins    receives the min (as a value that is subtracted, so {@code >= 0}) at {@code minIndex}
     * @return the scale
     */
    static float scaleMin(int n, int nmax, float[] x, int xOff, float[] weights, int[] levels, int levelsOff, int[] scratch,
                          float rmin, float rdelta, int nstep, boolean useMad, float[] mins, int minIndex) {
        float min = x[xOff];
        float max = x[xOff];
        float sumW = weights[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < n; i++) {
            float xi = x[xOff + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[levelsOff + i] = 0;
            }
            mins[minIndex] = -min;
            return 0;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Math.clamp(nearestInt(iscale * (x[xOff + i] - min)), 0, nmax);
            levels[levelsOff + i] = l;
            float diff = scale * l + min - x[xOff + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        for (int is = 0; nstep >= 1 && is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.clamp(nearestInt(iscale * (x[xOff + i] - min)), 0, nmax);
                scratch[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[xOff + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * scratch[i] + thisMin - x[xOff + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError) {
                    System.arraycopy(scratch, 0, levels, levelsOff, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[minIndex] = -min;
        return scale;
    }

    /**
     * A symmetric fit {@code x ≈ scale·(l - nmax)} with levels in {@code [0, 2·nmax)} weighted by {@code x²} (ggml's
     * {@code make_qx_quants} with rmse_type 1 and no importance weights): the scale from the largest magnitude,
     * {@code -nmax/max}, and 18 nearby spacings {@code -(nmax + 0.1·is)/max}; keeps the one whose least-squares scale
     * explains the most ({@code sumlx²/suml2}).
     *
     * @param levels receives the {@code n} levels (offset by {@code nmax}) at {@code levelsOff}
     * @return the scale (0 for an all-zero group, whose levels are then 0)
     */
    static float symmetric(int n, int nmax, float[] x, int xOff, int[] levels, int levelsOff) {
        float max = Bits.largestMagnitude(x, xOff, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[levelsOff + i] = 0;
            }
            return 0;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int l = Math.clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelsOff + i] = l + nmax;
            float w = xi * xi;
            sumLX += w * xi * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0;
        float best = scale * sumLX;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumLX = 0;
            sumL2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                int l = Math.clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = xi * xi;
                sumLX += w * xi * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
                for (int i = 0; i < n; i++) {
                    levels[levelsOff + i] = nmax + Math.clamp(nearestInt(iscale * x[xOff + i]), -nmax, nmax - 1);
                }
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /**
     * The symmetric fit of Q3_K (ggml's {@code make_q3_quants} with rmse): levels {@code l} in {@code [-nmax, nmax)}
     * from the largest magnitude, then up to 5 passes that move single levels while that improves the
     * {@code x²}-weighted least-squares fit.
     *
     * @param levels receives the {@code n} levels (offset by {@code nmax}; all 0 for an all-zero group)
     * @return the scale
     */
    static float q3(int n, int nmax, float[] x, int xOff, int[] levels, int levelsOff) {
        float max = Bits.largestMagnitude(x, xOff, n);
        if (Math.abs(max) < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                levels[levelsOff + i] = 0;
            }
            return 0;
        }
        float iscale = -nmax / max;
        float sumLX = 0;
        float sumL2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOff + i];
            int l = Math.clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            levels[levelsOff + i] = l;
            float w = xi * xi;
            sumLX += w * xi * l;
            sumL2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                float w = xi * xi;
                int old = levels[levelsOff + i];
                float slx = sumLX - w * xi * old;
                if (slx > 0) {
                    float sl2 = sumL2 - w * old * old;
                    int l = Math.clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (l != old) {
                        slx += w * xi * l;
                        sl2 += w * l * l;
                        if (sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2) {
                            levels[levelsOff + i] = l;
                            sumLX = slx;
                            sumL2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            levels[levelsOff + i] += nmax;
        }
        return sumLX / sumL2;
    }
}
