package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LANES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The register tile of the batched product: 2 weight rows by 4 tokens, 8 independent accumulators.
 *
 * <p>Each weight vector is loaded once and used for 4 tokens, each activation vector once for 2 rows, so a step
 * of 8 columns is 6 loads for 8 FMAs. With 8 accumulators + 2 weights + 1 activation the tile fits the 16 AVX2
 * registers without spills (3x4 does not). The weights come pre-decoded in a float[] (see {@link PackedMatmul}),
 * so the decode cost is paid once per packed block instead of once per token tile.
 */
final class TileKernel {

    static final int ROWS = 2;
    static final int TOKENS = 4;

    private TileKernel() {
    }

    /**
     * {@code acc[4*i + j] = sum_{c < len} w[wi + c] * x[xj + c]} for rows {@code wi in (w0, w1)} and tokens
     * {@code xj in (x0..x3)}; {@code len} must be a multiple of the vector length.
     */
    static void tile(float[] w, int w0, int w1, float[] x, int x0, int x1, int x2, int x3, int len, float[] acc) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int c = 0; c < len; c += LANES) {
            FloatVector wa = FloatVector.fromArray(F, w, w0 + c);
            FloatVector wb = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v = FloatVector.fromArray(F, x, x0 + c);
            a00 = wa.fma(v, a00);
            a10 = wb.fma(v, a10);
            v = FloatVector.fromArray(F, x, x1 + c);
            a01 = wa.fma(v, a01);
            a11 = wb.fma(v, a11);
            v = FloatVector.fromArray(F, x, x2 + c);
            a02 = wa.fma(v, a02);
            a12 = wb.fma(v, a12);
            v = FloatVector.fromArray(F, x, x3 + c);
            a03 = wa.fma(v, a03);
            a13 = wb.fma(v, a13);
        }
        acc[0] = a00.reduceLanes(VectorOperators.ADD);
        acc[1] = a01.reduceLanes(VectorOperators.ADD);
        acc[2] = a02.reduceLanes(VectorOperators.ADD);
        acc[3] = a03.reduceLanes(VectorOperators.ADD);
        acc[4] = a10.reduceLanes(VectorOperators.ADD);
        acc[5] = a11.reduceLanes(VectorOperators.ADD);
        acc[6] = a12.reduceLanes(VectorOperators.ADD);
        acc[7] = a13.reduceLanes(VectorOperators.ADD);
    }
}
