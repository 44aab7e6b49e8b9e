package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mat-vec kernels for the 32-weight block types against int8 activations ({@link Q8Activations}):
 * {@code out[r] = W[r] . x~} for a range of rows.
 *
 * <p>Per block: 16 weight bytes are loaded narrow and widened to 16 short lanes (one instruction), the 4/5/8-bit
 * values are cut out in those lanes (with their offset -8/-16 subtracted there: measured faster than a scalar
 * correction through the activation sums), multiplied with the 16-bit activations, and the two halves of the
 * block are added, leaving 16 lanes of pair sums. The Vector API has no {@code pmaddwd}, so the 16 shorts are
 * folded into 8 ints through the int view of the vector: for v = hi:lo, {@code ((v << 16) + v) >> 16 = hi + lo}
 * (the carry-free form, valid while |hi + lo| < 2^15, which holds for 4- and 5-bit weights times int8), or
 * {@code (v << 16 >> 16) + (v >> 16)} for Q8_0 whose pair sums need 17 bits. One int-to-float conversion and one
 * FMA with the product of the two block scales finish the block; the min of Q4_1/Q5_1 multiplies the activation
 * block sum once per block.
 *
 * <p>One row at a time: running two rows together so that they share the activation loads measured 1.5x slower.
 * Each kernel is one flat method, since a vector helper that C2 does not inline costs ~10x (checked with
 * {@code -XX:+PrintInlining}, see docs/performance.md).
 */
final class QuantDotKernels {

    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_256;

    /** Bit j in lane j (as a short), to test bit j of a broadcast 16-bit word. */
    static final ShortVector LANE_BIT = ShortVector.fromArray(S, laneBits(false), 0);
    /** 2^(15-j) in lane j: multiplying (bit j set ? 2^j : 0) by it gives 0x8000 or 0. */
    static final ShortVector LANE_TO_TOP = ShortVector.fromArray(S, laneBits(true), 0);

    private QuantDotKernels() {
    }

    private static short[] laneBits(boolean reversed) {
        short[] bits = new short[16];
        for (int j = 0; j < 16; j++) {
            bits[j] = (short) (1 << (reversed ? 15 - j : j));
        }
        return bits;
    }

    static void q8_0Rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 34L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 34) {
                ShortVector p = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0))
                        .mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).castShape(S, 0))
                                .mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16)));
                IntVector i = p.reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q4_0Rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 18L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 18) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
                ShortVector p = v.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8)
                                .mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16)));
                IntVector i = p.reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q4_1Rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 20L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            float mins = 0;
            for (int b = 0; b < blocks; b++, o += 20) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 4, LE).castShape(S, 0);
                ShortVector p = v.and((short) 0xF).mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16)));
                IntVector i = p.reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
                mins += Float.float16ToFloat(w.get(SHORT_LE, o + 2)) * xsum[sBase + b];
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD) + mins;
        }
    }

    /** The fifth bits: lane j of the low (high) half gets 16 if bit j (j + 16) of qh is set, via 0x8000 >>> 11. */
    static void q5_0Rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 22L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 22) {
                int qh = w.get(QuantDecode.INT_LE, o + 2);
                ShortVector hLo = ShortVector.broadcast(S, (short) qh).and(LANE_BIT).mul(LANE_TO_TOP).lanewise(VectorOperators.LSHR, 11);
                ShortVector hHi = ShortVector.broadcast(S, (short) (qh >>> 16)).and(LANE_BIT).mul(LANE_TO_TOP).lanewise(VectorOperators.LSHR, 11);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 6, LE).castShape(S, 0);
                ShortVector p = v.and((short) 0xF).or(hLo).sub((short) 16).mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(hHi).sub((short) 16)
                                .mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16)));
                IntVector i = p.reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q5_1Rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 24L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qBase = t * cols;
        int sBase = t * blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            float mins = 0;
            for (int b = 0; b < blocks; b++, o += 24) {
                int qh = w.get(QuantDecode.INT_LE, o + 4);
                ShortVector hLo = ShortVector.broadcast(S, (short) qh).and(LANE_BIT).mul(LANE_TO_TOP).lanewise(VectorOperators.LSHR, 11);
                ShortVector hHi = ShortVector.broadcast(S, (short) (qh >>> 16)).and(LANE_BIT).mul(LANE_TO_TOP).lanewise(VectorOperators.LSHR, 11);
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 8, LE).castShape(S, 0);
                ShortVector p = v.and((short) 0xF).or(hLo).mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).or(hHi).mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16)));
                IntVector i = p.reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
                mins += Float.float16ToFloat(w.get(SHORT_LE, o + 2)) * xsum[sBase + b];
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD) + mins;
        }
    }
}
