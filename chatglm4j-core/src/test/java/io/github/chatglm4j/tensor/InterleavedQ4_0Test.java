package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
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
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A regrouped Q4_0 matrix ({@link WeightMatrix#regroup}) against the double-precision reference over the ggml-layout
 * original it was made from, with the bounds derived in {@link QuantWeightMatrixTest}: every product path (mat-vec,
 * int8 batches, float tiles, panels), shapes with and without a tail of fewer than 16 blocks, 1-3 threads.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InterleavedQ4_0Test {

    private static Arena arena;
    private static Parallel pool2;
    private static Parallel pool3;

    @BeforeAll
    static void setUp() {
        arena = Arena.ofShared();
        pool2 = Parallel.create(2);
        pool3 = Parallel.create(3);
    }

    @AfterAll
    static void tearDown() {
        pool2.close();
        pool3.close();
        arena.close();
    }

    private static Parallel pool(int threads) {
        return threads == 1 ? null : threads == 2 ? pool2 : pool3;
    }

    private static WeightMatrix original(int rows, int cols, Random random) {
        return new WeightMatrix(QuantReference.randomBlocks(arena, TensorType.Q4_0, (long) rows * cols, random), TensorType.Q4_0, rows, cols);
    }

    private static WeightMatrix regrouped(WeightMatrix w, int threads) {
        return w.regroup(arena.allocate(w.data().byteSize(), 64), pool(threads));
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // 32: tail only; 512: one group; 1408: two groups + 12-block tail; 13696: the FFN width (26 groups + 12)
        int[] colsList = {32, 512, 1408, 4096, 13696};
        int[] ns = {1, 2, 3, 4, 5, 8, 9, 16, 40};
        int i = 0;
        for (int cols : colsList) {
            for (int n : ns) {
                int rows = cols > 4096 ? 5 + n % 3 : 7 + 3 * (i % 11);
                cases.add(Arguments.of(rows, cols, n, 1 + i % 3));
                i++;
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "[{0} x {1}] n={2} threads={3}")
    @MethodSource("shapes")
    void productsMatchTheReferenceOfTheOriginal(int rows, int cols, int n, int threads) {
        Random random = new Random(131L * rows + cols + 7L * n);
        WeightMatrix w0 = original(rows, cols, random);
        WeightMatrix w = regrouped(w0, threads);
        assertThat(w.isRegrouped()).isTrue();
        assertThat(w.type()).isEqualTo(TensorType.Q4_0);
        float[] x = QuantWeightMatrixTest.activations(n * cols, random);
        float[] out = new float[n * rows + 3];
        Arrays.fill(out, Float.NaN);

        w.matmul(x, n, out, pool(threads));

        float[] single = new float[rows];
        for (int t = 0; t < n; t++) {
            float[] xt = Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            w.matvec(xt, single, pool(threads));
            double[] xq = QuantReference.quantizedActivations(x, t * cols, cols);
            for (int r = 0; r < rows; r++) {
                String what = "token " + t + " row " + r;
                QuantWeightMatrixTest.assertInt8Path(w0, x, t * cols, xq, r, single[r], "mat-vec " + what);
                float y = out[t * rows + r];
                if (WeightMatrix.int8Batch(TensorType.Q4_0, n)) {
                    QuantWeightMatrixTest.assertInt8Path(w0, x, t * cols, xq, r, y, "int8 batch " + what);
                } else {
                    QuantWeightMatrixTest.assertFloatPath(w0, x, t * cols, r, y, "float batch " + what);
                }
            }
        }
        for (int i = n * rows; i < out.length; i++) {
            assertThat(out[i]).as("wrote past its %d outputs", n * rows).isNaN();
        }
    }

    @Test
    void copyRowGivesTheOriginalWeightsBitForBit() {
        int rows = 4;
        int cols = 1408;
        WeightMatrix w0 = original(rows, cols, new Random(5));
        WeightMatrix w = regrouped(w0, 2);
        float[] want = new float[cols];
        float[] got = new float[cols + 2];
        for (int r = 0; r < rows; r++) {
            w0.copyRow(r, want, 0);
            w.copyRow(r, got, 1);
            for (int c = 0; c < cols; c++) {
                assertThat(Float.floatToRawIntBits(got[1 + c])).as("row %d column %d", r, c).isEqualTo(Float.floatToRawIntBits(want[c]));
            }
        }
    }

    @Test
    void regroupingKeepsEveryByteAndOnlyMovesThem() {
        int rows = 3;
        int cols = 1408;
        WeightMatrix w0 = original(rows, cols, new Random(6));
        WeightMatrix w = regrouped(w0, 1);
        byte[] a = w0.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] b = w.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        assertThat(b).isNotEqualTo(a);
        long rowBytes = 18L * cols / 32;
        // scales of group 0, block 5 of row 1: bytes 10-11 of the group; nibble byte 3 of that block: 32 + 16*3 + 5
        long g = rowBytes;
        assertThat(b[(int) (g + 10)]).isEqualTo(a[(int) (g + 5 * 18)]);
        assertThat(b[(int) (g + 11)]).isEqualTo(a[(int) (g + 5 * 18 + 1)]);
        assertThat(b[(int) (g + 32 + 16 * 3 + 5)]).isEqualTo(a[(int) (g + 5 * 18 + 2 + 3)]);
        // the 12-block tail keeps ggml's layout
        long tail = rowBytes + 2 * 288;
        assertThat(Arrays.copyOfRange(b, (int) tail, (int) (2 * rowBytes))).isEqualTo(Arrays.copyOfRange(a, (int) tail, (int) (2 * rowBytes)));
        byte[] sa = a.clone();
        byte[] sb = b.clone();
        Arrays.sort(sa);
        Arrays.sort(sb);
        assertThat(sb).isEqualTo(sa);
    }

    @Test
    void onlyGgmlQ4_0CanBeRegrouped() {
        WeightMatrix w0 = original(2, 64, new Random(7));
        WeightMatrix w = regrouped(w0, 1);
        assertThat(w0.canRegroup()).isTrue();
        assertThat(w.canRegroup()).isFalse();
        assertThatThrownBy(() -> w.regroup(arena.allocate(w.data().byteSize()), null)).isInstanceOf(IllegalStateException.class);
        WeightMatrix q8 = new WeightMatrix(arena.allocate(TensorType.Q8_0.byteSize(64)), TensorType.Q8_0, 1, 64);
        assertThat(q8.canRegroup()).isFalse();
        MemorySegment small = arena.allocate(10);
        assertThatThrownBy(() -> w0.regroup(small, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(w0.data().byteSize()));
    }
}
