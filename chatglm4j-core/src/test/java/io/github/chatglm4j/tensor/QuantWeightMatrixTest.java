package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Products of block-quantized weight matrices against a double-precision reference over the exactly decoded
 * weights ({@link QuantReference}).
 *
 * <p>Error bounds. The mat-vec path quantizes x per block of 32 to x~ = d*q with d = max|x|/127 and
 * q = round(x/d), so |x~_c - x_c| &lt;= d_b/2 (plus a relative 2^-23 from rounding x*(1/d), covered by the factor
 * 0.5001). The kernel then computes W.x~ in float32: integer block sums are exact, each block adds one rounded
 * product of scales and one rounded FMA, so the deviation from the double W.x~ is a small multiple of 2^-24 times
 * sum |w_c x~_c| (1e-5 of it is a safe margin for a few thousand blocks; the terms with the weight offset folded
 * in are at most ~4x that magnitude). Hence: (1) |y - W.x~| &lt;= 1e-5 sum|w x~| against the reference that
 * quantizes x the same way, and (2) |y - W.x| &lt;= sum_c |w_c| d_b(c)/2 * 1.0002 + 1e-5 sum|w x| against the
 * exact activations. The batched product with int8 activations (n = 1, and Q4_0/Q8_0 with a few tokens) computes
 * each token exactly like the mat-vec; otherwise it keeps x in float32 and must match W.x within 1e-5 sum|w x|.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class QuantWeightMatrixTest {

    private static final double FLOAT_TOLERANCE = 1e-5;
    static final TensorType[] QUANTIZED = Arrays.stream(TensorType.values()).filter(TensorType::isQuantized).toArray(TensorType[]::new);

    private static TestPools pools;

    @BeforeAll
    static void setUp() {
        pools = new TestPools();
    }

    @AfterAll
    static void tearDown() {
        pools.close();
    }

    static Stream<Arguments> matvecCases() {
        List<Arguments> cases = new ArrayList<>();
        for (TensorType type : QUANTIZED) {
            int b = type.blockSize();
            int wide = b == 32 ? 13696 : 13824; // the FFN width (not a multiple of 256; 54 K-blocks for the K-quants)
            int[][] shapes = {{1, b}, {7, 2 * b}, {13, 3 * b}, {67, 3 * b}, {33, 4096}, {3, wide}};
            for (int[] shape : shapes) {
                for (int threads : new int[] {1, 2, 3}) {
                    cases.add(Arguments.of(type, shape[0], shape[1], threads));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} [{1} x {2}] threads={3}")
    @MethodSource("matvecCases")
    void matvecMatchesReferencesWithinTheInt8ActivationBounds(TensorType type, int rows, int cols, int threads) {
        Random random = new Random(31L * rows + cols + type.ordinal());
        WeightMatrix w = new WeightMatrix(QuantReference.randomBlocks(pools.arena, type, (long) rows * cols, random), type, rows, cols);
        float[] x = activations(cols, random);
        float[] out = new float[rows + 3];
        Arrays.fill(out, Float.NaN);

        w.matvec(x, out, pools.pool(threads));

        double[] xq = QuantReference.quantizedActivations(x, 0, cols);
        for (int r = 0; r < rows; r++) {
            assertInt8Path(w, x, 0, xq, r, out[r], "matvec row " + r);
        }
        for (int r = rows; r < out.length; r++) {
            assertThat(out[r]).as("matvec wrote past row %d", rows - 1).isNaN();
        }
    }

    static Stream<Arguments> matmulCases() {
        List<Arguments> cases = new ArrayList<>();
        for (TensorType type : QUANTIZED) {
            int b = type.blockSize();
            for (int n = 1; n <= 13; n++) {
                cases.add(Arguments.of(type, 11 + n, (n % 3 + 1) * b, n, n % 3 + 1));
            }
            cases.add(Arguments.of(type, 37, 2 * b, 64, 2));
            cases.add(Arguments.of(type, 19, 3 * b, 130, 3));
            cases.add(Arguments.of(type, 101, 1024, 17, 2)); // several row panels
            cases.add(Arguments.of(type, 53, 2560, 19, 3)); // three column panels, the last one half full
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} [{1} x {2}] n={3} threads={4}")
    @MethodSource("matmulCases")
    void matmulMatchesReferenceAndMatvecPerToken(TensorType type, int rows, int cols, int n, int threads) {
        Random random = new Random(97L * rows + cols + 7L * n + type.ordinal());
        WeightMatrix w = new WeightMatrix(QuantReference.randomBlocks(pools.arena, type, (long) rows * cols, random), type, rows, cols);
        float[] x = activations(n * cols, random);
        float[] out = new float[n * rows + 5];
        Arrays.fill(out, Float.NaN);

        w.matmul(x, n, out, pools.pool(threads));

        float[] single = new float[rows];
        for (int t = 0; t < n; t++) {
            w.matvec(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), single, null);
            double[] xq = QuantReference.quantizedActivations(x, t * cols, cols);
            for (int r = 0; r < rows; r++) {
                String what = "matmul token " + t + " row " + r;
                float y = out[t * rows + r];
                if (WeightMatrix.int8Batch(type, n)) {
                    assertInt8Path(w, x, t * cols, xq, r, y, what);
                    // same int8 products; the group kernel may add the block partial sums in another order
                    assertThat(y).as("%s equals the mat-vec up to float summation order", what)
                            .isCloseTo(single[r], org.assertj.core.api.Assertions.within(1e-5f * Math.max(1f, Math.abs(single[r]))));
                } else {
                    // float activations: within float rounding of W.x, and the mat-vec within its int8 bound of it
                    assertFloatPath(w, x, t * cols, r, y, what);
                    assertInt8Path(w, x, t * cols, xq, r, single[r], "mat-vec of " + what);
                }
            }
        }
        for (int i = n * rows; i < out.length; i++) {
            assertThat(out[i]).as("matmul wrote past its %d outputs", n * rows).isNaN();
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16"}, mode = EnumSource.Mode.EXCLUDE)
    void copyRowDecodesExactly(TensorType type) {
        int rows = 5;
        int cols = 3 * type.blockSize();
        WeightMatrix w = new WeightMatrix(QuantReference.randomBlocks(pools.arena, type, (long) rows * cols, new Random(9)), type, rows, cols);
        float[] dst = new float[cols + 4];
        for (int r = 0; r < rows; r++) {
            Arrays.fill(dst, Float.NaN);
            w.copyRow(r, dst, 2);
            assertThat(dst[1]).isNaN();
            assertThat(dst[cols + 2]).isNaN();
            for (int c = 0; c < cols; c++) {
                float want = QuantReference.element(w.data(), type, (long) r * cols + c);
                assertThat(Float.floatToRawIntBits(dst[2 + c])).as("%s row %d column %d: expected %s, got %s", type, r, c, want, dst[2 + c])
                        .isEqualTo(Float.floatToRawIntBits(want));
            }
        }
    }

    @Test
    void activationQuantizationFollowsItsDefinition() {
        Random random = new Random(3);
        int cols = 256;
        float[] x = activations(2 * cols, random);
        Arrays.fill(x, 32, 64, 0f); // an all-zero block: scale 0, no division by zero
        x[70] = Float.MIN_VALUE;
        Q8Activations a = Q8Activations.quantize(x, 2, cols);
        for (int t = 0; t < 2; t++) {
            double[] xq = QuantReference.quantizedActivations(x, t * cols, cols);
            for (int b = 0; b < cols / 32; b++) {
                int block = t * cols / 32 + b;
                long sum = 0;
                for (int i = 0; i < 32; i++) {
                    int c = t * cols + 32 * b + i;
                    assertThat(Math.abs(a.q[c])).as("|q| of column %d", c).isLessThanOrEqualTo(127);
                    assertThat((double) a.scale[block] * a.q[c]).as("x~ of token %d column %d", t, 32 * b + i).isEqualTo(xq[32 * b + i]);
                    sum += a.q[c];
                }
                assertThat(a.sum[block]).as("block sum %d", block).isEqualTo(a.scale[block] * sum);
            }
        }
        assertThat(a.scale[1]).as("scale of the zero block").isZero();
    }

    /** Activations like a normalized hidden state: mostly N(0,1), a few outlier channels. */
    static float[] activations(int count, Random random) {
        float[] x = ReferenceMath.randomFloats(count, random);
        for (int i = 0; i < count; i += 97) {
            x[i] *= 20;
        }
        return x;
    }

    static void assertFloatPath(WeightMatrix w, float[] x, int xOffset, int r, float actual, String what) {
        double sum = 0;
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
            double product = QuantReference.element(w.data(), w.type(), (long) r * w.cols() + c) * (double) x[xOffset + c];
            sum += product;
            magnitude += Math.abs(product);
        }
        double error = Math.abs(actual - sum);
        if (!(error <= FLOAT_TOLERANCE * magnitude + 1e-30)) {
            fail(String.format("%s %s: W.x = %.9g, got %.9g (error %.3g, allowed %.3g)", w, what, sum, actual, error,
                    FLOAT_TOLERANCE * magnitude));
        }
    }

    static void assertInt8Path(WeightMatrix w, float[] x, int xOffset, double[] xq, int r, float actual, String what) {
        double quantized = 0;
        double quantizedMagnitude = 0;
        double exact = 0;
        double exactMagnitude = 0;
        double activationBound = 0;
        for (int c = 0; c < w.cols(); c++) {
            double wc = QuantReference.element(w.data(), w.type(), (long) r * w.cols() + c);
            quantized += wc * xq[c];
            quantizedMagnitude += Math.abs(wc * xq[c]);
            exact += wc * x[xOffset + c];
            exactMagnitude += Math.abs(wc * x[xOffset + c]);
            activationBound += Math.abs(wc) * QuantReference.activationStep(x, xOffset, c) * 0.5001;
        }
        double error = Math.abs(actual - quantized);
        if (!(error <= FLOAT_TOLERANCE * quantizedMagnitude + 1e-30)) {
            fail(String.format("%s %s: W.x~ = %.9g, got %.9g (error %.3g, allowed %.3g)", w, what, quantized, actual, error,
                    FLOAT_TOLERANCE * quantizedMagnitude));
        }
        double allowed = activationBound * 1.0002 + FLOAT_TOLERANCE * exactMagnitude;
        error = Math.abs(actual - exact);
        if (!(error <= allowed)) {
            fail(String.format("%s %s: W.x = %.9g, got %.9g (error %.3g, int8 activation bound %.3g)", w, what, exact, actual,
                    error, allowed));
        }
    }
}
