package io.github.chatglm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;

/** Comparisons of float vectors with a reference, and small array helpers, shared by the tests. */
public final class Numbers {
    private Numbers() {
    }

    /** The parts one after another (token ids of a prompt or a scripted reply). */
    public static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Index of the largest value (the first one on ties, as torch.argmax). */
    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Largest absolute difference. */
    public static double maxAbsDiff(float[] a, float[] b) {
        assertThat(b).as("lengths").hasSameSizeAs(a);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Cosine similarity in double precision. */
    public static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    /** Every value within {@code tolerance} of the reference; the message names the worst index. */
    public static void assertClose(float[] want, float[] got, double tolerance, String what) {
        assertThat(got).as("%s: length", what).hasSameSizeAs(want);
        int worst = 0;
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            if (!(d <= max)) {
                max = d;
                worst = i;
            }
        }
        assertThat(max).as("%s: max |difference| %s at index %d (want %s, got %s)", what, max, worst, want[worst], got[worst])
                .isLessThanOrEqualTo(tolerance);
    }
}
