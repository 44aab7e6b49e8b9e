package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

/**
 * A regrouped Q4_0 or Q8_0 matrix ({@link WeightMatrix#regroup}, {@link BlockGroups}) against the double-precision
 * reference over the ggml-layout original it was made from, with the bounds derived in {@link QuantWeightMatrixTest}:
 * every product path (mat-vec, int8 batches, float tiles, panels), shapes with and without a tail of fewer than
 * {@code G} blocks, 1-3 threads. The build runs this class at both vector widths (256 and 512 bits, see the
 * surefire executions in chatglm4j-core/pom.xml), whatever the machine has.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RegroupedBlocksTest {

    private static TestPools pools;

    @BeforeAll
    static void setUp() {
        pools = new TestPools();
    }

    @AfterAll
    static void tearDown() {
        pools.close();
    }

    private static WeightMatrix original(TensorType type, int rows, int cols, Random random) {
        return new WeightMatrix(QuantReference.randomBlocks(pools.arena, type, (long) rows * cols, random), type, rows, cols);
    }

    private static WeightMatrix regrouped(WeightMatrix w, int threads) {
        return w.regroup(pools.arena.allocate(w.data().byteSize(), 64), pools.pool(threads));
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        // 32: tail only; 512 and 1024: one group at 256 or 512 bits; 1408: 44 blocks, 2 groups of 16 or 1 of 32
        // and a 12-block tail; 13696: the FFN width (26 groups of 16 or 13 of 32, + 12)
        int[] colsList = {32, 512, 1024, 1408, 4096, 13696};
        int[] ns = {1, 2, 3, 4, 5, 8, 9, 16, 40};
        int i = 0;
        for (TensorType type : new TensorType[] {TensorType.Q4_0, TensorType.Q8_0}) {
            for (int cols : colsList) {
                for (int n : ns) {
                    int rows = cols > 4096 ? 5 + n % 3 : 7 + 3 * (i % 11);
                    cases.add(Arguments.of(type, rows, cols, n, 1 + i % 3));
                    i++;
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} [{1} x {2}] n={3} threads={4}")
    @MethodSource("shapes")
    void productsMatchTheReferenceOfTheOriginal(TensorType type, int rows, int cols, int n, int threads) {
        Random random = new Random(131L * rows + cols + 7L * n);
        WeightMatrix w0 = original(type, rows, cols, random);
        WeightMatrix w = regrouped(w0, threads);
        assertThat(w.isRegrouped()).isTrue();
        assertThat(w.type()).isEqualTo(type);
        float[] x = QuantWeightMatrixTest.activations(n * cols, random);
        float[] out = new float[n * rows + 3];
        Arrays.fill(out, Float.NaN);

        w.matmul(x, n, out, pools.pool(threads));

        float[] single = new float[rows];
        for (int t = 0; t < n; t++) {
            float[] xt = Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            w.matvec(xt, single, pools.pool(threads));
            double[] xq = QuantReference.quantizedActivations(x, t * cols, cols);
            for (int r = 0; r < rows; r++) {
                String what = "token " + t + " row " + r;
                QuantWeightMatrixTest.assertInt8Path(w0, x, t * cols, xq, r, single[r], "mat-vec " + what);
                float y = out[t * rows + r];
                if (WeightMatrix.int8Batch(type, n)) {
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

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void copyRowGivesTheOriginalWeightsBitForBit(TensorType type) {
        int rows = 4;
        int cols = 1408;
        WeightMatrix w0 = original(type, rows, cols, new Random(5));
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

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q8_0"})
    void regroupingKeepsEveryByteAndOnlyMovesThem(TensorType type) {
        int rows = 3;
        int cols = 1408;
        int bb = (int) type.byteSize(32);
        int g16 = BlockGroups.G;
        WeightMatrix w0 = original(type, rows, cols, new Random(6));
        WeightMatrix w = regrouped(w0, 1);
        byte[] a = w0.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] b = w.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        assertThat(b).isNotEqualTo(a);
        long rowBytes = (long) bb * cols / 32;
        // scales of group 0, block 5 of row 1: bytes 10-11 of the group; quant byte 3 of that block: 2G + G*3 + 5
        long g = rowBytes;
        assertThat(b[(int) (g + 10)]).isEqualTo(a[(int) (g + 5 * bb)]);
        assertThat(b[(int) (g + 11)]).isEqualTo(a[(int) (g + 5 * bb + 1)]);
        assertThat(b[(int) (g + 2 * g16 + g16 * 3 + 5)]).isEqualTo(a[(int) (g + 5 * bb + 2 + 3)]);
        // the 12-block tail keeps ggml's layout (44 blocks: 2 groups of 16 or 1 of 32 before it)
        long tail = rowBytes + (44 - 12) * bb;
        assertThat(Arrays.copyOfRange(b, (int) tail, (int) (2 * rowBytes))).isEqualTo(Arrays.copyOfRange(a, (int) tail, (int) (2 * rowBytes)));
        byte[] sa = a.clone();
        byte[] sb = b.clone();
        Arrays.sort(sa);
        Arrays.sort(sb);
        assertThat(sb).isEqualTo(sa);
    }

    @Test
    void onlyGgmlQ4_0AndQ8_0CanBeRegrouped() {
        WeightMatrix w0 = original(TensorType.Q4_0, 2, 64, new Random(7));
        WeightMatrix w = regrouped(w0, 1);
        assertThat(w0.canRegroup()).isTrue();
        assertThat(w.canRegroup()).isFalse();
        assertThatThrownBy(() -> w.regroup(pools.arena.allocate(w.data().byteSize()), null)).isInstanceOf(IllegalStateException.class);
        WeightMatrix q8 = new WeightMatrix(pools.arena.allocate(TensorType.Q8_0.byteSize(64)), TensorType.Q8_0, 1, 64);
        assertThat(q8.canRegroup()).isTrue();
        WeightMatrix q4k = new WeightMatrix(pools.arena.allocate(TensorType.Q4_K.byteSize(256)), TensorType.Q4_K, 1, 256);
        assertThat(q4k.canRegroup()).isFalse();
        MemorySegment small = pools.arena.allocate(10);
        assertThatThrownBy(() -> w0.regroup(small, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(w0.data().byteSize()));
    }
}
