package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.F16_MASK;
import static io.github.chatglm4j.tensor.Decode.F16_SCALE;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;
import static io.github.chatglm4j.tensor.QuantDotKernels.B128;
import static io.github.chatglm4j.tensor.QuantDotKernels.S;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0 with the blocks of each row regrouped so that a block's dot product lives in one vector lane: the same bytes
 * as ggml's Q4_0 (18 per 32 weights), in a different order, made once at load time ({@link #repackRows}).
 *
 * <p>Layout of a row: groups of {@link #GROUP} = 16 consecutive blocks, each stored as 16 F16 scales (32 bytes)
 * followed by 256 bytes where byte {@code 16k + j} is byte k (weights k and k + 16) of block j; the last
 * {@code blocks % 16} blocks of a row stay in ggml's layout. The activations are permuted the same way
 * ({@link Q8Activations#grouped()}), so one 16-byte load gives weight k of 16 blocks, and 16 loads later each
 * short lane holds the sum of one block's 16 low-nibble (or high-nibble) products: no horizontal sums, and the
 * conversion to float and the scale FMAs are paid once per 16 blocks instead of per block. Per 32 weights the
 * kernel spends ~8 vector instructions (load, widen, mask, shift, 2 multiplies, 2 adds) against ~20 for the ggml
 * layout in {@link QuantDotKernels}; measured 1.26x faster over all chatglm3-6b matrices in KernelBench, but not yet
 * inside the engine, where C2 compiled the row loop without unrolling or range-check elimination (after
 * deoptimizations), so loading uses it only on request ({@code LoadOptions.repack}; docs/performance.md). llama.cpp
 * repacks Q4_0 too (into row-interleaved blocks for its AVX2 kernels).
 *
 * <p>Range check: nibbles are 0..15 (the -8 is applied once per block through the activation sums) and int8
 * activations |q| &lt;= 127, so a lane's 16 products sum to at most 16 * 15 * 127 = 30480 &lt; 2^15.
 */
final class InterleavedQ4_0 {

    static final int GROUP = 16;
    /** Bytes of one group of 16 blocks (same as 16 ggml blocks). */
    static final int GROUP_BYTES = 18 * GROUP;
    /** Weights per group. */
    static final int GROUP_COLS = 32 * GROUP;

    private InterleavedQ4_0() {
    }

    /** Rewrites rows {@code [r0, r1)} of a ggml Q4_0 matrix {@code src} into the grouped layout in {@code dst}. */
    static void repackRows(MemorySegment src, MemorySegment dst, int cols, int r0, int r1) {
        int blocks = cols / 32;
        int groups = blocks / GROUP;
        long rowBytes = 18L * blocks;
        byte[] in = new byte[GROUP_BYTES];
        byte[] out = new byte[GROUP_BYTES];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, o, in, 0, GROUP_BYTES);
                for (int j = 0; j < GROUP; j++) {
                    out[2 * j] = in[18 * j];
                    out[2 * j + 1] = in[18 * j + 1];
                    for (int k = 0; k < 16; k++) {
                        out[32 + 16 * k + j] = in[18 * j + 2 + k];
                    }
                }
                MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, o, GROUP_BYTES);
            }
            long tail = rowBytes - (long) groups * GROUP_BYTES;
            MemorySegment.copy(src, o, dst, o, tail);
        }
    }

    /**
     * Column order of the grouped layout, for one token's values: {@code dst[16k + j] = src[32j + k]} and
     * {@code dst[256 + 16k + j] = src[32j + k + 16]} per group; the tail keeps its order. Products are sums over
     * columns, so activations permuted like this can meet weights decoded in stored order ({@link #decode}).
     */
    static void permute(float[] src, int srcOff, float[] dst, int dstOff, int cols) {
        int groups = cols / GROUP_COLS;
        for (int g = 0; g < groups; g++) {
            int s = srcOff + g * GROUP_COLS;
            int d = dstOff + g * GROUP_COLS;
            for (int j = 0; j < GROUP; j++) {
                for (int k = 0; k < 16; k++) {
                    dst[d + 16 * k + j] = src[s + 32 * j + k];
                    dst[d + 256 + 16 * k + j] = src[s + 32 * j + k + 16];
                }
            }
        }
        int done = groups * GROUP_COLS;
        System.arraycopy(src, srcOff + done, dst, dstOff + done, cols - done);
    }

    /** Inverse of {@link #permute(float[], int, float[], int, int)}: stored order back to column order. */
    static void unpermute(float[] src, float[] dst, int dstOff, int cols) {
        int groups = cols / GROUP_COLS;
        for (int g = 0; g < groups; g++) {
            int s = g * GROUP_COLS;
            int d = dstOff + g * GROUP_COLS;
            for (int j = 0; j < GROUP; j++) {
                for (int k = 0; k < 16; k++) {
                    dst[d + 32 * j + k] = src[s + 16 * k + j];
                    dst[d + 32 * j + k + 16] = src[s + 256 + 16 * k + j];
                }
            }
        }
        int done = groups * GROUP_COLS;
        System.arraycopy(src, done, dst, dstOff + done, cols - done);
    }

    /** The permutation of {@link #permute(float[], int, float[], int, int)} for one group of int8 activations. */
    static void permuteGroup(short[] src, int s, short[] dst, int d) {
        for (int j = 0; j < GROUP; j++) {
            for (int k = 0; k < 16; k++) {
                dst[d + 16 * k + j] = src[s + 32 * j + k];
                dst[d + 256 + 16 * k + j] = src[s + 32 * j + k + 16];
            }
        }
    }

    /**
     * Decodes weights {@code [col0, col0 + len)} of row {@code row} <em>in stored order</em> (the column order of
     * {@link #permute}) to {@code dst[p ...]}; col0 and len are multiples of 32. A group is decoded with 16 lanes of
     * blocks side by side, so each lane multiplies by its block's scale: no shuffles.
     */
    static void decode(MemorySegment w, int cols, int row, int col0, float[] dst, int p, int len) {
        int blocks = cols / 32;
        int groupedCols = blocks / GROUP * GROUP_COLS;
        long rowStart = row * 18L * blocks;
        int c = col0;
        int end = col0 + len;
        float[] tmp = null;
        while (c < end && c < groupedCols) {
            int g = c / GROUP_COLS;
            int in = c - g * GROUP_COLS;
            int n = Math.min(end, (g + 1) * GROUP_COLS) - c;
            long o = rowStart + (long) g * GROUP_BYTES;
            if (in == 0 && n == GROUP_COLS) {
                decodeGroup(w, o, dst, p);
            } else {
                tmp = tmp == null ? new float[GROUP_COLS] : tmp;
                decodeGroup(w, o, tmp, 0);
                System.arraycopy(tmp, in, dst, p, n);
            }
            c += n;
            p += n;
        }
        if (c < end) {
            QuantDecode.q4_0(w, rowStart + (long) (c / 32) * 18, dst, p, (end - c) / 32);
        }
    }

    private static void decodeGroup(MemorySegment w, long o, float[] dst, int p) {
        FloatVector d0 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o, LE)
                .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                .reinterpretAsFloats().mul(F16_SCALE);
        FloatVector d1 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o + 16, LE)
                .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                .reinterpretAsFloats().mul(F16_SCALE);
        for (int k = 0; k < 16; k++) {
            IntVector v0 = QuantDecode.bytes8(w, o + 32 + 16 * k);
            IntVector v1 = QuantDecode.bytes8(w, o + 40 + 16 * k);
            ((FloatVector) v0.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d0).intoArray(dst, p + 16 * k);
            ((FloatVector) v1.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d1).intoArray(dst, p + 16 * k + 8);
            ((FloatVector) v0.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0))
                    .mul(d0).intoArray(dst, p + 256 + 16 * k);
            ((FloatVector) v1.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0))
                    .mul(d1).intoArray(dst, p + 256 + 16 * k + 8);
        }
    }

    /**
     * {@code out[outBase + r] = W[r] . x~_t} for rows {@code [r0, r1)}, each row in one pass (splitting the 13696
     * columns of the FFN-out matrix into chunks so that its 27 KiB of activations stay in L1 made it 2x slower: the
     * strided weight reads defeat the prefetchers).
     */
    static void rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        int groups = blocks / GROUP;
        long rowBytes = 18L * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                ShortVector lo = ShortVector.zero(S);
                ShortVector hi = ShortVector.zero(S);
                int qg = qBase + g * GROUP_COLS;
                for (int k = 0; k < 16; k++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 16 * k, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    lo = lo.add(v.and((short) 0xF).mul(ShortVector.fromArray(S, q, qg + 16 * k)));
                    hi = hi.add(v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(S, q, qg + 256 + 16 * k)));
                }
                int sb = sBase + g * GROUP;
                // block j: d_w * (d_x * sum(nibble * q) - 8 * d_x * sum(q)), 8 blocks per float vector
                IntVector s0 = ((IntVector) lo.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                        .add((IntVector) hi.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0));
                IntVector s1 = ((IntVector) lo.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1))
                        .add((IntVector) hi.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1));
                FloatVector d0 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o, LE)
                        .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                        .reinterpretAsFloats().mul(F16_SCALE);
                FloatVector d1 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o + 16, LE)
                        .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                        .reinterpretAsFloats().mul(F16_SCALE);
                FloatVector f0 = ((FloatVector) s0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xs, sb))
                        .sub(FloatVector.fromArray(F, xsum, sb).mul(8f));
                FloatVector f1 = ((FloatVector) s1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, xs, sb + 8))
                        .sub(FloatVector.fromArray(F, xsum, sb + 8).mul(8f));
                acc0 = f0.fma(d0, acc0);
                acc1 = f1.fma(d1, acc1);
            }
            float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
            out[outBase + r] = groups * GROUP == blocks ? sum : sum + tail(w, o, q, qBase + groups * GROUP_COLS, xs, sBase, groups * GROUP, blocks);
        }
    }

    /**
     * The last {@code blocks % 16} blocks of a row at byte {@code o}, which keep ggml's layout (and the activations
     * their order), computed as {@link QuantDotKernels} does; a method of its own so that the row loop has no
     * rarely taken inner loop for C2 to speculate on.
     */
    private static float tail(MemorySegment w, long o, short[] q, int qt, float[] xs, int sBase, int b0, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = b0; b < blocks; b++, o += 18, qt += 32) {
            ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
            ShortVector p = v.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S, q, qt))
                    .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8)
                            .mul(ShortVector.fromArray(S, q, qt + 16)));
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
     * {@code pool} (which also regroups the activations): per chunk of
     * rows, pairs of tokens and a last single token each pass over the chunk (4 tokens at once measured slower than two
     * pairs: their 8 accumulators, the unpacked weights and the constants need more than the 16 vector registers).
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

    /** 2 tokens t..t+1 at once: each weight vector is loaded and unpacked once for all of them. */
    static void rows2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        int groups = blocks / GROUP;
        long rowBytes = 18L * blocks;
        short[] q = a.grouped();
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase0 = (t + 0) * cols;
        int sBase0 = (t + 0) * blocks;
        int qBase1 = (t + 1) * cols;
        int sBase1 = (t + 1) * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int g = 0; g < groups; g++, o += GROUP_BYTES) {
                ShortVector lo0 = ShortVector.zero(S);
                ShortVector hi0 = ShortVector.zero(S);
                ShortVector lo1 = ShortVector.zero(S);
                ShortVector hi1 = ShortVector.zero(S);
                int qg = g * GROUP_COLS;
                for (int k = 0; k < 16; k++) {
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 16 * k, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector vl = v.and((short) 0xF);
                    ShortVector vh = v.lanewise(VectorOperators.LSHR, 4);
                    lo0 = lo0.add(vl.mul(ShortVector.fromArray(S, q, qBase0 + qg + 16 * k)));
                    hi0 = hi0.add(vh.mul(ShortVector.fromArray(S, q, qBase0 + qg + 256 + 16 * k)));
                    lo1 = lo1.add(vl.mul(ShortVector.fromArray(S, q, qBase1 + qg + 16 * k)));
                    hi1 = hi1.add(vh.mul(ShortVector.fromArray(S, q, qBase1 + qg + 256 + 16 * k)));
                }
                FloatVector d0 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o, LE)
                        .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                        .reinterpretAsFloats().mul(F16_SCALE);
                FloatVector d1 = ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, w, o + 16, LE)
                        .castShape(IntVector.SPECIES_256, 0)).lanewise(VectorOperators.LSHL, 13).and(F16_MASK)
                        .reinterpretAsFloats().mul(F16_SCALE);
                int sb0 = sBase0 + g * GROUP;
                acc0 = ((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                        .add((IntVector) hi0.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xs, sb0)).sub(FloatVector.fromArray(F, xsum, sb0).mul(8f)).fma(d0, acc0);
                acc0 = ((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1))
                        .add((IntVector) hi0.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xs, sb0 + 8)).sub(FloatVector.fromArray(F, xsum, sb0 + 8).mul(8f)).fma(d1, acc0);
                int sb1 = sBase1 + g * GROUP;
                acc1 = ((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                        .add((IntVector) hi1.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xs, sb1)).sub(FloatVector.fromArray(F, xsum, sb1).mul(8f)).fma(d0, acc1);
                acc1 = ((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1))
                        .add((IntVector) hi1.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 1)).convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, xs, sb1 + 8)).sub(FloatVector.fromArray(F, xsum, sb1 + 8).mul(8f)).fma(d1, acc1);
            }
            float sum0 = acc0.reduceLanes(VectorOperators.ADD);
            float sum1 = acc1.reduceLanes(VectorOperators.ADD);
            if (groups * GROUP < blocks) {
                sum0 += tail(w, o, q, qBase0 + groups * GROUP_COLS, xs, sBase0, groups * GROUP, blocks);
                sum1 += tail(w, o, q, qBase1 + groups * GROUP_COLS, xs, sBase1, groups * GROUP, blocks);
            }
            out[t * rows + r] = sum0;
            out[(t + 1) * rows + r] = sum1;
        }
    }
}
