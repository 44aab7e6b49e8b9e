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
 * Q4_0 in the regrouped layout of {@link BlockGroups} ({@code G} = 16 or 32 blocks side by side, made at load):
 * int8 mat-vec, batched decode and decoding to floats for prefill.
 *
 * <p>Per step k of a group: one load of {@code G} bytes widened to 16-bit lanes, the low nibbles (weights k) and
 * the high nibbles (weights k + 16) each multiplied with {@code G} activations and added to a 16-bit lane sum:
 * 7 vector instructions per 2G weights (3.5 per 32 at 512 bits). The -8 offset is applied once per block through
 * the activation sums. Range: nibbles are 0..15 and int8 activations |q| &lt;= 127, so a lane's 16 products sum
 * to at most 16 * 15 * 127 = 30480 &lt; 2^15.
 */
final class InterleavedQ4_0 {

    static final int BLOCK_BYTES = 18;
    /**
     * 0xF in every lane, loaded from memory once per call: C2 re-broadcasts a constant operand ({@code and((short)
     * 0xF)}, or a broadcast held in a local) from its constant table before every use (disassembly of the loop).
     */
    private static final short[] LOW_NIBBLE = filled((short) 0xF);
    /** Bytes of one group (same as G ggml blocks). */
    static final int GROUP_BYTES = BLOCK_BYTES * G;

    private InterleavedQ4_0() {
    }

    private static short[] filled(short v) {
        short[] a = new short[64];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** Rewrites rows {@code [r0, r1)} of a ggml Q4_0 matrix {@code src} into the grouped layout in {@code dst}. */
    static void repackRows(MemorySegment src, MemorySegment dst, int cols, int r0, int r1) {
        BlockGroups.repackRows(src, dst, cols, BLOCK_BYTES, r0, r1);
    }

    /**
     * Decodes weights {@code [col0, col0 + len)} of row {@code row} <em>in stored order</em> (the column order of
     * {@link BlockGroups#permute}) to {@code dst[p ...]}; col0 and len are multiples of 32. A group is decoded with
     * its blocks side by side in the lanes, so each lane multiplies by its own block's scale: no shuffles.
     */
    static void decode(MemorySegment w, int cols, int row, int col0, float[] dst, int p, int len) {
        BlockGroups.decodeRow(w, cols, row, col0, dst, p, len, BLOCK_BYTES, InterleavedQ4_0::decodeGroup, QuantDecode::q4_0);
    }

    private static void decodeGroup(MemorySegment w, long o, float[] dst, int p) {
        FloatVector d0 = BlockGroups.scales(w, o);
        FloatVector d1 = BlockGroups.scales(w, o + G);
        for (int k = 0; k < 16; k++) {
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(BQ, w, o + 2 * G + G * k, LE).castShape(I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(BQ, w, o + 2 * G + G * k + H, LE).castShape(I, 0);
            ((FloatVector) v0.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d0).intoArray(dst, p + G * k);
            ((FloatVector) v1.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d1).intoArray(dst, p + G * k + H);
            ((FloatVector) v0.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0))
                    .mul(d0).intoArray(dst, p + 16 * G + G * k);
            ((FloatVector) v1.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0))
                    .mul(d1).intoArray(dst, p + 16 * G + G * k + H);
        }
    }

    /**
     * {@code out[outBase + r] = W[r] . x~_t} for rows {@code [r0, r1)}, each row in one pass (splitting the 13696
     * columns of the FFN-out matrix into chunks so that its 27 KiB of activations stay in L1 made it 2x slower: the
     * strided weight reads defeat the prefetchers).
     */
    static void rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        int groups = BlockGroups.groups(cols);
        long rowBytes = (long) BLOCK_BYTES * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * blocks;
        ShortVector low = ShortVector.fromArray(S, LOW_NIBBLE, 0);
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FW);
            FloatVector acc1 = FloatVector.zero(FW);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                ShortVector lo = ShortVector.zero(S);
                ShortVector hi = ShortVector.zero(S);
                int qg = qBase + g * GROUP_COLS;
                for (int k = 0; k < 16; k++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BH, w, o + 2 * G + G * k, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    lo = lo.add(v.and(low).mul(ShortVector.fromArray(S, q, qg + G * k)));
                    hi = hi.add(v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S, q, qg + 16 * G + G * k)));
                }
                int sb = sBase + g * G;
                // block j: d_w * (d_x * sum(nibble * q) - 8 * d_x * sum(q)), H blocks per float vector
                IntVector s0 = ((IntVector) lo.convertShape(VectorOperators.S2I, I, 0)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 0));
                IntVector s1 = ((IntVector) lo.convertShape(VectorOperators.S2I, I, 1)).add((IntVector) hi.convertShape(VectorOperators.S2I, I, 1));
                FloatVector f0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb))
                        .sub(FloatVector.fromArray(FW, xsum, sb).mul(8f));
                FloatVector f1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(FW, xs, sb + H))
                        .sub(FloatVector.fromArray(FW, xsum, sb + H).mul(8f));
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

    /**
     * The last {@code blocks % G} blocks of a row at byte {@code o}, which keep ggml's layout (and the activations
     * their order), computed as {@link QuantDotKernels} does; a method of its own so that the row loop has no
     * rarely taken inner loop for C2 to speculate on.
     */
    private static float tail(MemorySegment w, long o, short[] q, int qt, float[] xs, int sBase, int b0, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = b0; b < blocks; b++, o += BLOCK_BYTES, qt += 32) {
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(QuantDotKernels.S, 0);
            ShortVector p = v.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(QuantDotKernels.S, q, qt))
                    .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8)
                            .mul(ShortVector.fromArray(QuantDotKernels.S, q, qt + 16)));
            IntVector i = p.reinterpretAsInts();
            i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
            float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
            acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Rows per chunk of the batched path: the chunk's weights stay in L2 while each token group passes over them. */
    private static final int BATCH_ROWS = 32;

    /** Row-range body of the mat-vec of token 0 ({@code out[r]}), to be run on {@code pool} (which also regroups {@code a}). */
    static Parallel.RangeBody matvec(MemorySegment w, int cols, Q8Activations a, float[] out, Parallel pool) {
        a.grouped(pool); // made before the row bodies share the activations
        return (r0, r1) -> rows(w, cols, a, 0, out, 0, r0, r1);
    }

    /**
     * Row-range body of the int8 product of all {@code a.tokens} tokens ({@code out[t*rows + r]}), to be run on
     * {@code pool} (which also regroups the activations): per chunk of rows, pairs of tokens and a last single
     * token each pass over the chunk (4 tokens at once measured slower than two pairs on AVX2: their 8
     * accumulators, the unpacked weights and the constants need more than the 16 vector registers).
     */
    static Parallel.RangeBody batch(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, Parallel pool) {
        a.grouped(pool); // made before the row bodies share the activations
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

    /** 2 tokens t..t+1 at once: each weight vector is loaded and unpacked once for both. */
    static void rows2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        int groups = BlockGroups.groups(cols);
        long rowBytes = (long) BLOCK_BYTES * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase0 = t * cols;
        int sBase0 = t * blocks;
        int qBase1 = (t + 1) * cols;
        int sBase1 = (t + 1) * blocks;
        ShortVector low = ShortVector.fromArray(S, LOW_NIBBLE, 0);
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(FW);
            FloatVector acc1 = FloatVector.zero(FW);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                ShortVector lo0 = ShortVector.zero(S);
                ShortVector hi0 = ShortVector.zero(S);
                ShortVector lo1 = ShortVector.zero(S);
                ShortVector hi1 = ShortVector.zero(S);
                int qg = g * GROUP_COLS;
                for (int k = 0; k < 16; k++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(BH, w, o + 2 * G + G * k, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vl = v.and(low);
                    ShortVector vh = v.lanewise(VectorOperators.LSHR, 4);
                    lo0 = lo0.add(vl.mul(ShortVector.fromArray(S, q, qBase0 + qg + G * k)));
                    hi0 = hi0.add(vh.mul(ShortVector.fromArray(S, q, qBase0 + qg + 16 * G + G * k)));
                    lo1 = lo1.add(vl.mul(ShortVector.fromArray(S, q, qBase1 + qg + G * k)));
                    hi1 = hi1.add(vh.mul(ShortVector.fromArray(S, q, qBase1 + qg + 16 * G + G * k)));
                }
                FloatVector d0 = BlockGroups.scales(w, o);
                FloatVector d1 = BlockGroups.scales(w, o + G);
                int sb0 = sBase0 + g * G;
                acc0 = ((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, I, 0))
                        .add((IntVector) hi0.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(FW, xs, sb0)).sub(FloatVector.fromArray(FW, xsum, sb0).mul(8f)).fma(d0, acc0);
                acc0 = ((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, I, 1))
                        .add((IntVector) hi0.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(FW, xs, sb0 + H)).sub(FloatVector.fromArray(FW, xsum, sb0 + H).mul(8f)).fma(d1, acc0);
                int sb1 = sBase1 + g * G;
                acc1 = ((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, I, 0))
                        .add((IntVector) hi1.convertShape(VectorOperators.S2I, I, 0)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(FW, xs, sb1)).sub(FloatVector.fromArray(FW, xsum, sb1).mul(8f)).fma(d0, acc1);
                acc1 = ((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, I, 1))
                        .add((IntVector) hi1.convertShape(VectorOperators.S2I, I, 1)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(FW, xs, sb1 + H)).sub(FloatVector.fromArray(FW, xsum, sb1 + H).mul(8f)).fma(d1, acc1);
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
