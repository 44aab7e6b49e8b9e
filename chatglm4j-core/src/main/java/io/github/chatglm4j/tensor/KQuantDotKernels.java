package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
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
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec kernels for the 256-weight K-quant types against the same per-32 int8 activations as the 32-weight
 * types ({@link Q8Activations}; ggml uses one activation scale per 256 instead, we keep the finer one so that one
 * quantized activation serves every matrix type of a mixed model).
 *
 * <p>The sub-blocks of Q4_K/Q5_K are 32 weights, so each one is exactly one activation block: 16-bit products,
 * the carry-free pair sum (see {@link QuantDotKernels}), one conversion and one FMA with {@code d * scale * dx}.
 * Per block the 8 factors {@code d * scale_j * dx_j} are computed as one vector (stored to a small array and
 * broadcast from there), and the mins as one vector FMA {@code dmin * min_j * sum_j} into a second accumulator.
 * The four 64-weight chunks of a block stay a loop: written out they ran ~10% faster in isolation, but the
 * method became too big for C1 ("out of virtual registers"), and without that tier C2 compiled it from a poor
 * profile and deoptimized repeatedly (7x slower in a benchmark run). Q6_K's sub-blocks are 16
 * weights with their own int8 scale: the two halves of an activation block are pair-summed separately, scaled in
 * int lanes and added before the one conversion (a variant with a per-half vector of float factors and both halves
 * written out measured 15-100% slower).
 */
final class KQuantDotKernels {


    private KQuantDotKernels() {
    }

    /*
     * The 12 scale bytes of a Q4_K/Q5_K block hold 8 six-bit scales and 8 six-bit mins: sub-blocks j = 0-3 keep
     * theirs in the low 6 bits of bytes j (scale) and j+4 (min); sub-blocks 4-7 join a nibble of byte j+4 (low
     * nibble: scale, high nibble: min) with the top two bits of byte j-4 (scale) or byte j (min). The kernels unpack
     * all 8 at once: byte shuffles put the right byte in each of 8 lanes, then masks and shifts with per-lane
     * constants (doing this with scalar code and an int[] cost 40% of the kernel's time).
     */
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final VectorShuffle<Byte> SCALE_LOW = bytes(0, 1, 2, 3, 8, 9, 10, 11);
    static final VectorShuffle<Byte> SCALE_HIGH = bytes(0, 0, 0, 0, 0, 1, 2, 3);
    static final VectorShuffle<Byte> MIN_LOW = bytes(4, 5, 6, 7, 8, 9, 10, 11);
    static final VectorShuffle<Byte> MIN_HIGH = bytes(4, 4, 4, 4, 4, 5, 6, 7);
    static final IntVector SIX_OR_FOUR = IntVector.fromArray(I, new int[] {63, 63, 63, 63, 15, 15, 15, 15}, 0);
    static final IntVector TOP_BITS = IntVector.fromArray(I, new int[] {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    static final IntVector MIN_SHIFT = IntVector.fromArray(I, new int[] {0, 0, 0, 0, 4, 4, 4, 4}, 0);

    private static VectorShuffle<Byte> bytes(int... first8) {
        int[] lanes = new int[16];
        System.arraycopy(first8, 0, lanes, 0, first8.length);
        return VectorShuffle.fromArray(B128, lanes, 0);
    }

    static void q4kRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 144L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        float[] ds = new float[8];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            FloatVector mins = acc;
            for (int b = 0; b < blocks; b++, o += 144) {
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                float dmin = Float.float16ToFloat(w.get(SHORT_LE, o + 2));
                ByteVector packed = ByteVector.fromMemorySegment(B128, w, o + 4, LE);
                IntVector sc = ((IntVector) packed.rearrange(SCALE_LOW).castShape(I, 0)).and(SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(SCALE_HIGH).castShape(I, 0)).lanewise(VectorOperators.LSHR, 2).and(TOP_BITS));
                IntVector mn = ((IntVector) packed.rearrange(MIN_LOW).castShape(I, 0)).lanewise(VectorOperators.LSHR, MIN_SHIFT).and(SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(MIN_HIGH).castShape(I, 0)).lanewise(VectorOperators.LSHR, 2).and(TOP_BITS));
                int qb = qBase + 256 * b;
                int ab = sBase + 8 * b;
                ((FloatVector) sc.convert(VectorOperators.I2F, 0)).mul(d).mul(FloatVector.fromArray(F, xs, ab)).intoArray(ds, 0);
                mins = ((FloatVector) mn.convert(VectorOperators.I2F, 0)).mul(dmin).fma(FloatVector.fromArray(F, xsum, ab), mins);
                for (int c = 0; c < 4; c++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16 + 32 * c, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * c, LE).castShape(S, 0);
                    int x = qb + 64 * c;
                    ShortVector p0 = v0.and((short) 0xF).mul(ShortVector.fromArray(S, q, x))
                            .add(v1.and((short) 0xF).mul(ShortVector.fromArray(S, q, x + 16)));
                    ShortVector p1 = v0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).mul(ShortVector.fromArray(S, q, x + 32))
                            .add(v1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).mul(ShortVector.fromArray(S, q, x + 48)));
                    IntVector i0 = p0.reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    IntVector i1 = p1.reinterpretAsInts();
                    i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                    acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[2 * c]), acc);
                    acc = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[2 * c + 1]), acc);
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
        }
    }

    /** As Q4_K; the fifth bits of chunk c are bits 2c and 2c+1 of qh[l], brought to bit 4 by shifting qh 2 per chunk. */
    static void q5kRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 176L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        float[] ds = new float[8];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            FloatVector mins = acc;
            for (int b = 0; b < blocks; b++, o += 176) {
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                float dmin = Float.float16ToFloat(w.get(SHORT_LE, o + 2));
                ByteVector packed = ByteVector.fromMemorySegment(B128, w, o + 4, LE);
                IntVector sc = ((IntVector) packed.rearrange(SCALE_LOW).castShape(I, 0)).and(SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(SCALE_HIGH).castShape(I, 0)).lanewise(VectorOperators.LSHR, 2).and(TOP_BITS));
                IntVector mn = ((IntVector) packed.rearrange(MIN_LOW).castShape(I, 0)).lanewise(VectorOperators.LSHR, MIN_SHIFT).and(SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(MIN_HIGH).castShape(I, 0)).lanewise(VectorOperators.LSHR, 2).and(TOP_BITS));
                int qb = qBase + 256 * b;
                int ab = sBase + 8 * b;
                ((FloatVector) sc.convert(VectorOperators.I2F, 0)).mul(d).mul(FloatVector.fromArray(F, xs, ab)).intoArray(ds, 0);
                mins = ((FloatVector) mn.convert(VectorOperators.I2F, 0)).mul(dmin).fma(FloatVector.fromArray(F, xsum, ab), mins);
                ShortVector h0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16, LE).castShape(S, 0);
                ShortVector h1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32, LE).castShape(S, 0);
                for (int c = 0; c < 4; c++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 48 + 32 * c, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 64 + 32 * c, LE).castShape(S, 0);
                    int x = qb + 64 * c;
                    ShortVector p0 = v0.and((short) 0xF).or(h0.lanewise(VectorOperators.LSHL, 4).and((short) 0x10))
                            .mul(ShortVector.fromArray(S, q, x))
                            .add(v1.and((short) 0xF).or(h1.lanewise(VectorOperators.LSHL, 4).and((short) 0x10))
                                    .mul(ShortVector.fromArray(S, q, x + 16)));
                    ShortVector p1 = v0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h0.lanewise(VectorOperators.LSHL, 3).and((short) 0x10))
                            .mul(ShortVector.fromArray(S, q, x + 32))
                            .add(v1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h1.lanewise(VectorOperators.LSHL, 3).and((short) 0x10))
                                    .mul(ShortVector.fromArray(S, q, x + 48)));
                    h0 = h0.lanewise(VectorOperators.ASHR, 2);
                    h1 = h1.lanewise(VectorOperators.ASHR, 2);
                    IntVector i0 = p0.reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    IntVector i1 = p1.reinterpretAsInts();
                    i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                    acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[2 * c]), acc);
                    acc = ((FloatVector) i1.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[2 * c + 1]), acc);
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * Q6_K: per 128-weight half, ql and qh are loaded once (6 vectors) and give the four 32-weight groups: low or
     * high nibbles of ql[0..31] or ql[32..63], with bit pair 0-1, 2-3, 4-5 or 6-7 of qh on top, minus 32.
     */
    static void q6kRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 210L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        for (int r = r0; r < r1; r++) {
            out[outBase + r] = q6kRow(w, r * rowBytes, blocks, q, xs, qBase, sBase);
        }
    }

    /**
     * One Q6_K row. A method of its own, too big for C2 to inline into the row loop: inlined, the loop's node
     * budget ran out and left the vector loads' bounds checks as calls (the output layer ran ~3x slower per weight).
     */
    private static float q6kRow(MemorySegment w, long o, int blocks, short[] q, float[] xs, int qBase, int sBase) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++, o += 210) {
            float d = Float.float16ToFloat(w.get(SHORT_LE, o + 208));
            for (int h = 0; h < 2; h++) {
                long ql = o + 64 * h;
                long qh = o + 128 + 32 * h;
                long sc = o + 192 + 8 * h;
                ShortVector a0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, ql, LE).castShape(S, 0);
                ShortVector a1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, ql + 16, LE).castShape(S, 0);
                ShortVector b0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, ql + 32, LE).castShape(S, 0);
                ShortVector b1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, ql + 48, LE).castShape(S, 0);
                ShortVector h0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, qh, LE).castShape(S, 0);
                ShortVector h1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, qh + 16, LE).castShape(S, 0);
                int x = qBase + 256 * b + 128 * h;
                int ab = sBase + 8 * b + 4 * h;
                // group 0: low nibbles of ql[0..31], qh bits 0-1
                ShortVector p0 = a0.and((short) 0xF).or(h0.lanewise(VectorOperators.LSHL, 4).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x));
                ShortVector p1 = a1.and((short) 0xF).or(h1.lanewise(VectorOperators.LSHL, 4).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 16));
                IntVector i0 = p0.reinterpretAsInts();
                i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                IntVector i1 = p1.reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                i0 = i0.mul(w.get(ValueLayout.JAVA_BYTE, sc)).add(i1.mul(w.get(ValueLayout.JAVA_BYTE, sc + 1)));
                acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[ab]), acc);
                // group 1: low nibbles of ql[32..63], qh bits 2-3
                p0 = b0.and((short) 0xF).or(h0.lanewise(VectorOperators.LSHL, 2).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 32));
                p1 = b1.and((short) 0xF).or(h1.lanewise(VectorOperators.LSHL, 2).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 48));
                i0 = p0.reinterpretAsInts();
                i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                i1 = p1.reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                i0 = i0.mul(w.get(ValueLayout.JAVA_BYTE, sc + 2)).add(i1.mul(w.get(ValueLayout.JAVA_BYTE, sc + 3)));
                acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[ab + 1]), acc);
                // group 2: high nibbles of ql[0..31], qh bits 4-5
                p0 = a0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h0.and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 64));
                p1 = a1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h1.and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 80));
                i0 = p0.reinterpretAsInts();
                i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                i1 = p1.reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                i0 = i0.mul(w.get(ValueLayout.JAVA_BYTE, sc + 4)).add(i1.mul(w.get(ValueLayout.JAVA_BYTE, sc + 5)));
                acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[ab + 2]), acc);
                // group 3: high nibbles of ql[32..63], qh bits 6-7
                p0 = b0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h0.lanewise(VectorOperators.ASHR, 2).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 96));
                p1 = b1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(h1.lanewise(VectorOperators.ASHR, 2).and((short) 0x30)).sub((short) 32)
                        .mul(ShortVector.fromArray(S, q, x + 112));
                i0 = p0.reinterpretAsInts();
                i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                i1 = p1.reinterpretAsInts();
                i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                i0 = i0.mul(w.get(ValueLayout.JAVA_BYTE, sc + 6)).add(i1.mul(w.get(ValueLayout.JAVA_BYTE, sc + 7)));
                acc = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[ab + 3]), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
