package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.BlockGroups.BH;
import static io.github.chatglm4j.tensor.BlockGroups.BQ;
import static io.github.chatglm4j.tensor.BlockGroups.FW;
import static io.github.chatglm4j.tensor.BlockGroups.G;
import static io.github.chatglm4j.tensor.BlockGroups.GROUP_COLS;
import static io.github.chatglm4j.tensor.BlockGroups.H;
import static io.github.chatglm4j.tensor.BlockGroups.I;
import static io.github.chatglm4j.tensor.BlockGroups.S;
import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;
import static io.github.chatglm4j.tensor.QuantDotKernels.B128;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 in the regrouped layout of {@link BlockGroups} ({@code G} = 16 or 32 blocks side by side, made at load):
 * int8 mat-vec, batched decode and decoding to floats for prefill.
 *
 * <p>Per two steps k, k+1 of a group: two loads of {@code G} bytes sign-extended to 16-bit lanes, two multiplies
 * with the activations and one add (two int8 products fit in 16 bits: |sum| &lt;= 2 * 128 * 127 = 32512), then the
 * 16-bit sums widened into two int accumulators of {@code G/2} lanes: ~9 vector instructions per 2G weights,
 * against ~12 per 32 weights in ggml's layout ({@link QuantDotKernels#q8_0Rows}), which pays a pair-sum fold, an
 * int-to-float conversion, a scalar scale product and an FMA per block.
 */
final class InterleavedQ8_0 {

    static final int BLOCK_BYTES = 34;
    /** Bytes of one group (same as G ggml blocks). */
    static final int GROUP_BYTES = BLOCK_BYTES * G;

    private InterleavedQ8_0() {
    }

    /** Rewrites rows {@code [r0, r1)} of a ggml Q8_0 matrix {@code src} into the grouped layout in {@code dst}. */
    static void repackRows(MemorySegment src, MemorySegment dst, int cols, int r0, int r1) {
        BlockGroups.repackRows(src, dst, cols, BLOCK_BYTES, r0, r1);
    }

    /** As {@link InterleavedQ4_0#decode}: weights {@code [col0, col0 + len)} of a row in stored order. */
    static void decode(MemorySegment w, int cols, int row, int col0, float[] dst, int p, int len) {
        BlockGroups.decodeRow(w, cols, row, col0, dst, p, len, BLOCK_BYTES, InterleavedQ8_0::decodeGroup, QuantDecode::q8_0);
    }

    private static void decodeGroup(MemorySegment w, long o, float[] dst, int p) {
        FloatVector d0 = BlockGroups.scales(w, o);
        FloatVector d1 = BlockGroups.scales(w, o + G);
        for (int k = 0; k < 32; k++) {
            ((FloatVector) ByteVector.fromMemorySegment(BQ, w, o + 2 * G + G * k, LE).castShape(FW, 0)).mul(d0).intoArray(dst, p + G * k);
            ((FloatVector) ByteVector.fromMemorySegment(BQ, w, o + 2 * G + G * k + H, LE).castShape(FW, 0)).mul(d1).intoArray(dst, p + G * k + H);
        }
    }

    /** {@code out[outBase + r] = W[r] . x~_t} for rows {@code [r0, r1)}. */
    static void rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        int groups = BlockGroups.groups(cols);
        long rowBytes = (long) BLOCK_BYTES * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FW);
            FloatVector acc1 = FloatVector.zero(FW);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                IntVector s0 = IntVector.zero(I);
                IntVector s1 = IntVector.zero(I);
                int qg = qBase + g * GROUP_COLS;
                for (int k = 0; k < 32; k += 2) {
                    ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(BH, w, o + 2 * G + G * k, LE).castShape(S, 0))
                            .mul(ShortVector.fromArray(S, q, qg + G * k))
                            .add(((ShortVector) ByteVector.fromMemorySegment(BH, w, o + 3 * G + G * k, LE).castShape(S, 0))
                                    .mul(ShortVector.fromArray(S, q, qg + G * k + G)));
                    s0 = s0.add((IntVector) p.convertShape(VectorOperators.S2I, I, 0));
                    s1 = s1.add((IntVector) p.convertShape(VectorOperators.S2I, I, 1));
                }
                int sb = sBase + g * G;
                FloatVector f0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb));
                FloatVector f1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb + H));
                acc0 = f0.fma(BlockGroups.scales(w, o), acc0);
                acc1 = f1.fma(BlockGroups.scales(w, o + G), acc1);
            }
            out[outBase + r] = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        }
        if (groups * G < blocks) {
            addTails(w, cols, q, qBase, xs, sBase, out, outBase, r0, r1);
        }
    }

    /**
     * Adds the products of the last {@code blocks % G} blocks (ggml's layout) of rows {@code [r0, r1)}. A pass of
     * its own after the row loop: a tail test inside the row loop was profiled as never taken on 4096-column
     * matrices, hoisted by C2 as a loop predicate, and failed on the first 13696-column matrix; after a few such
     * traps C2 recompiled the kernel without loop predication, with the segment liveness checks, a range check
     * and a re-materialized shift count in every step of the inner loop (engine disassembly).
     */
    private static void addTails(MemorySegment w, int cols, short[] q, int qBase, float[] xs, int sBase, float[] out,
                                 int outBase, int r0, int r1) {
        int blocks = cols / 32;
        int b0 = BlockGroups.groups(cols) * G;
        long rowBytes = (long) BLOCK_BYTES * blocks;
        for (int r = r0; r < r1; r++) {
            out[outBase + r] += tail(w, r * rowBytes + (long) b0 * BLOCK_BYTES, q, qBase + 32 * b0, xs, sBase, b0, blocks);
        }
    }

    /** The last {@code blocks % G} blocks of a row, in ggml's layout, as {@link QuantDotKernels#q8_0Rows} does. */
    private static float tail(MemorySegment w, long o, short[] q, int qt, float[] xs, int sBase, int b0, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = b0; b < blocks; b++, o += BLOCK_BYTES, qt += 32) {
            ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(QuantDotKernels.S, 0))
                    .mul(ShortVector.fromArray(QuantDotKernels.S, q, qt))
                    .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).castShape(QuantDotKernels.S, 0))
                            .mul(ShortVector.fromArray(QuantDotKernels.S, q, qt + 16)));
            IntVector i = p.reinterpretAsInts();
            i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
            float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
            acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private static final int BATCH_ROWS = 32;

    /** Row-range body of the mat-vec of token 0, to be run on {@code pool} (which also regroups {@code a}). */
    static Parallel.RangeBody matvec(MemorySegment w, int cols, Q8Activations a, float[] out, Parallel pool) {
        a.grouped(pool);
        return (r0, r1) -> rows(w, cols, a, 0, out, 0, r0, r1);
    }

    /** Row-range body of the int8 product of all tokens: per chunk of rows, pairs of tokens and a last single one. */
    static Parallel.RangeBody batch(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, Parallel pool) {
        a.grouped(pool);
        int n = a.tokens;
        return (r0, r1) -> {
            for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
                int c1 = Math.min(r1, c0 + BATCH_ROWS);
                int t = 0;
                for (; t + 2 <= n; t += 2) {
                    rows2(w, cols, a, t, out, rows, c0, c1);
                }
                if (t < n) {
                    rows(w, cols, a, t, out, t * rows, c0, c1);
                }
            }
        };
    }

    /** 2 tokens t..t+1 at once: each weight vector is loaded and widened once for both. */
    static void rows2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        int groups = BlockGroups.groups(cols);
        long rowBytes = (long) BLOCK_BYTES * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        int qBase0 = t * cols;
        int sBase0 = t * blocks;
        int qBase1 = (t + 1) * cols;
        int sBase1 = (t + 1) * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FW);
            FloatVector acc1 = FloatVector.zero(FW);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                IntVector s00 = IntVector.zero(I);
                IntVector s01 = IntVector.zero(I);
                IntVector s10 = IntVector.zero(I);
                IntVector s11 = IntVector.zero(I);
                int qg = g * GROUP_COLS;
                for (int k = 0; k < 32; k += 2) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(BH, w, o + 2 * G + G * k, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(BH, w, o + 3 * G + G * k, LE).castShape(S, 0);
                    ShortVector p0 = v0.mul(ShortVector.fromArray(S, q, qBase0 + qg + G * k))
                            .add(v1.mul(ShortVector.fromArray(S, q, qBase0 + qg + G * k + G)));
                    ShortVector p1 = v0.mul(ShortVector.fromArray(S, q, qBase1 + qg + G * k))
                            .add(v1.mul(ShortVector.fromArray(S, q, qBase1 + qg + G * k + G)));
                    s00 = s00.add((IntVector) p0.convertShape(VectorOperators.S2I, I, 0));
                    s01 = s01.add((IntVector) p0.convertShape(VectorOperators.S2I, I, 1));
                    s10 = s10.add((IntVector) p1.convertShape(VectorOperators.S2I, I, 0));
                    s11 = s11.add((IntVector) p1.convertShape(VectorOperators.S2I, I, 1));
                }
                FloatVector d0 = BlockGroups.scales(w, o);
                FloatVector d1 = BlockGroups.scales(w, o + G);
                int sb0 = sBase0 + g * G;
                int sb1 = sBase1 + g * G;
                acc0 = ((FloatVector) s00.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb0)).fma(d0, acc0);
                acc0 = ((FloatVector) s01.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb0 + H)).fma(d1, acc0);
                acc1 = ((FloatVector) s10.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb1)).fma(d0, acc1);
                acc1 = ((FloatVector) s11.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb1 + H)).fma(d1, acc1);
            }
            out[t * rows + r] = acc0.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = acc1.reduceLanes(VectorOperators.ADD);
        }
        if (groups * G < blocks) {
            addTails(w, cols, q, qBase0, xs, sBase0, out, t * rows, r0, r1);
            addTails(w, cols, q, qBase1, xs, sBase1, out, (t + 1) * rows, r0, r1);
        }
    }
}
