package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
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

/** Each test fails (rather than hangs) if the pool ever loses a chunk. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WeightMatrixTest {

    /** Float32 accumulation error allowed, relative to sum |w_c * x_c| (the scale of rounding in a dot product). */
    private static final double TOLERANCE = 1e-5;

    private static TestPools pools;

    @BeforeAll
    static void setUp() {
        pools = new TestPools();
    }

    @AfterAll
    static void tearDown() {
        pools.close();
    }

    static final int[][] SHAPES = {{1, 1}, {7, 13}, {65, 130}, {33, 4096}, {257, 1000}, {3, 9001}, {16, 8}, {2, 31}};

    static Stream<Arguments> matvecCases() {
        List<Arguments> cases = new ArrayList<>();
        for (TensorType type : new TensorType[]{TensorType.F32, TensorType.F16, TensorType.BF16}) {
            for (int[] shape : SHAPES) {
                for (int threads : new int[] {1, 2, 3}) {
                    cases.add(Arguments.of(type, shape[0], shape[1], threads));
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> matmulCases() {
        List<Arguments> cases = new ArrayList<>();
        for (TensorType type : new TensorType[]{TensorType.F32, TensorType.F16, TensorType.BF16}) {
            for (int[] shape : SHAPES) {
                for (int n : new int[] {1, 2, 3, 5, 17}) {
                    cases.add(Arguments.of(type, shape[0], shape[1], n, n % 2 == 0 ? 2 : 3));
                }
            }
            cases.add(Arguments.of(type, 19, 4100, 9, 1)); // second column block with a scalar tail
            cases.add(Arguments.of(type, 37, 70, 33, 2)); // row blocks with an odd row, several token tiles
            // panel product: two row panels (the second 5 rows, one padded group), three column panels with a
            // 552-column tail (sub-panels of 256, 256, 40), 2 token tiles with 11 padded tokens
            cases.add(Arguments.of(type, 53, 2600, 21, 2));
            cases.add(Arguments.of(type, 9, 1031, 64, 3));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} [{1} x {2}] threads={3}")
    @MethodSource("matvecCases")
    void matvecMatchesDoubleReference(TensorType type, int rows, int cols, int threads) {
        Random random = new Random(31L * rows + cols + type.ordinal());
        WeightMatrix w = new WeightMatrix(ReferenceMath.randomTensor(pools.arena, type, (long) rows * cols, random), type, rows, cols);
        float[] x = ReferenceMath.randomFloats(cols, random);
        float[] out = new float[rows + 3];
        Arrays.fill(out, Float.NaN);

        w.matvec(x, out, pools.pool(threads));

        for (int r = 0; r < rows; r++) {
            assertClose(w, x, 0, r, out[r], "matvec row " + r);
        }
        for (int r = rows; r < out.length; r++) {
            assertThat(out[r]).as("matvec wrote past row %d", rows - 1).isNaN();
        }
    }

    @ParameterizedTest(name = "{0} [{1} x {2}] n={3} threads={4}")
    @MethodSource("matmulCases")
    void matmulMatchesDoubleReference(TensorType type, int rows, int cols, int n, int threads) {
        Random random = new Random(97L * rows + cols + 7L * n + type.ordinal());
        WeightMatrix w = new WeightMatrix(ReferenceMath.randomTensor(pools.arena, type, (long) rows * cols, random), type, rows, cols);
        float[] x = ReferenceMath.randomFloats(n * cols, random);
        float[] out = new float[n * rows + 5];
        Arrays.fill(out, Float.NaN);

        w.matmul(x, n, out, pools.pool(threads));

        float[] single = new float[rows];
        for (int t = 0; t < n; t++) {
            w.matvec(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), single, null);
            for (int r = 0; r < rows; r++) {
                assertClose(w, x, t * cols, r, out[t * rows + r], "matmul token " + t + " row " + r);
                assertSameWithinRounding(w, x, t * cols, r, out[t * rows + r], single[r], "matmul vs matvec, token " + t + " row " + r);
            }
        }
        for (int i = n * rows; i < out.length; i++) {
            assertThat(out[i]).as("matmul wrote past its %d outputs", n * rows).isNaN();
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16"})
    void matvecWithUnitVectorsPicksExactStoredValues(TensorType type) {
        int rows = 5;
        int cols = 40;
        WeightMatrix w = new WeightMatrix(ReferenceMath.randomTensor(pools.arena, type, rows * cols, new Random(5)), type, rows, cols);
        float[] out = new float[rows];
        for (int c = 0; c < cols; c++) {
            float[] unit = new float[cols];
            unit[c] = 1;
            w.matvec(unit, out, null);
            for (int r = 0; r < rows; r++) {
                double stored = ReferenceMath.element(w.data(), type, (long) r * cols + c);
                assertThat((double) out[r]).as("%s W[%d][%d] through matvec", type, r, c).isEqualTo(stored);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16"})
    void copyRowDecodesExactly(TensorType type) {
        int rows = 4;
        int cols = 61;
        WeightMatrix w = new WeightMatrix(ReferenceMath.randomTensor(pools.arena, type, rows * cols, new Random(9)), type, rows, cols);
        float[] dst = new float[cols + 4];
        Arrays.fill(dst, Float.NaN);
        w.copyRow(3, dst, 2);
        assertThat(dst[0]).isNaN();
        assertThat(dst[1]).isNaN();
        for (int c = 0; c < cols; c++) {
            double stored = ReferenceMath.element(w.data(), type, 3L * cols + c);
            assertThat(Float.floatToRawIntBits(dst[2 + c])).as("%s column %d: expected %s, got %s", type, c, stored, dst[2 + c])
                    .isEqualTo(Float.floatToRawIntBits((float) stored));
        }
        assertThat(dst[cols + 2]).isNaN();
        assertThat(dst[cols + 3]).isNaN();
    }

    @Test
    void rejectsSegmentOfWrongSize() {
        MemorySegment data = pools.arena.allocate(2 * 3 * 4 + 2);
        assertThatThrownBy(() -> new WeightMatrix(data, TensorType.F16, 3, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[3, 4]").hasMessageContaining("F16").hasMessageContaining("24 bytes");
        assertThatThrownBy(() -> new WeightMatrix(data, TensorType.F32, 0, 6))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }

    @Test
    void rejectsShortArrays() {
        WeightMatrix w = new WeightMatrix(pools.arena.allocate(4 * 3 * 4), TensorType.F32, 3, 4);
        assertThatThrownBy(() -> w.matvec(new float[3], new float[3], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x has 3 floats, needs at least 4");
        assertThatThrownBy(() -> w.matvec(new float[4], new float[2], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out has 2 floats");
        assertThatThrownBy(() -> w.matmul(new float[8], 2, new float[5], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out has 5 floats, needs at least 6");
        assertThatThrownBy(() -> w.matmul(new float[8], 0, new float[6], null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token count");
        assertThatThrownBy(() -> w.copyRow(3, new float[4], 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> w.copyRow(0, new float[4], 1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /** Two float32 evaluations of the same dot product (different summation order) agree within rounding. */
    private static void assertSameWithinRounding(WeightMatrix w, float[] x, int xOffset, int r, float a, float b, String what) {
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
            magnitude += Math.abs(ReferenceMath.element(w.data(), w.type(), (long) r * w.cols() + c) * x[xOffset + c]);
        }
        if (!(Math.abs(a - b) <= 2 * TOLERANCE * magnitude + 1e-30)) {
            fail(String.format("%s %s: %.9g vs %.9g (allowed %.3g)", w, what, a, b, 2 * TOLERANCE * magnitude));
        }
    }

    /** Compares one output against a double-precision dot product of the oracle-decoded weights. */
    private static void assertClose(WeightMatrix w, float[] x, int xOffset, int r, float actual, String what) {
        double sum = 0;
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
            double product = ReferenceMath.element(w.data(), w.type(), (long) r * w.cols() + c) * x[xOffset + c];
            sum += product;
            magnitude += Math.abs(product);
        }
        double error = Math.abs(actual - sum);
        if (!(error <= TOLERANCE * magnitude + 1e-30)) {
            fail(String.format("%s %s: expected %.9g, got %.9g (error %.3g, allowed %.3g)",
                    w, what, sum, actual, error, TOLERANCE * magnitude));
        }
    }
}
