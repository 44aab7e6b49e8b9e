package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;
import static io.github.chatglm4j.tensor.QuantDotKernels.B128;
import static io.github.chatglm4j.tensor.QuantDotKernels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Batched decode for a few tokens (several server streams): Q4_0, Q8_0 and Q4_K weights against the int8
 * activations of 2 or 4 tokens, {@code out[(t+j)*rows + r] = W[r] . x~_(t+j)}. Each weight block is loaded and unpacked once and
 * applied to every token of the group, so the bytes and the unpacking are shared; per token a block costs what it
 * costs in {@link QuantDotKernels} minus the unpacking (products, pair sum, one conversion, one FMA). One flat
 * method per type and group size, same arithmetic as the mat-vec kernels (so a token gives the same result in a
 * group as alone, up to float rounding order: none, the order is identical).
 */
final class QuantBatchKernels {

    private QuantBatchKernels() {
    }

    static void q4_0Tokens2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 18L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qa = t * cols;
        int qb = qa + cols;
        int sa = t * blocks;
        int sb = sa + blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = accA;
            for (int b = 0; b < blocks; b++, o += 18) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
                ShortVector lo = v.and((short) 0xF).sub((short) 8);
                ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                IntVector i = lo.mul(ShortVector.fromArray(S, q, qa + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qa + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accA = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sa + b]), accA);
                i = lo.mul(ShortVector.fromArray(S, q, qb + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qb + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accB = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sb + b]), accB);
            }
            out[t * rows + r] = accA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q4_0Tokens4(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 18L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qa = t * cols;
        int qb = qa + cols;
        int qc = qb + cols;
        int qd = qc + cols;
        int sa = t * blocks;
        int sb = sa + blocks;
        int sc = sb + blocks;
        int sd = sc + blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = accA;
            FloatVector accC = accA;
            FloatVector accD = accA;
            for (int b = 0; b < blocks; b++, o += 18) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
                ShortVector lo = v.and((short) 0xF).sub((short) 8);
                ShortVector hi = v.lanewise(VectorOperators.ASHR, 4).and((short) 0xF).sub((short) 8);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                IntVector i = lo.mul(ShortVector.fromArray(S, q, qa + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qa + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accA = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sa + b]), accA);
                i = lo.mul(ShortVector.fromArray(S, q, qb + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qb + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accB = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sb + b]), accB);
                i = lo.mul(ShortVector.fromArray(S, q, qc + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qc + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accC = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sc + b]), accC);
                i = lo.mul(ShortVector.fromArray(S, q, qd + 32 * b)).add(hi.mul(ShortVector.fromArray(S, q, qd + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).add(i).lanewise(VectorOperators.ASHR, 16);
                accD = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sd + b]), accD);
            }
            out[t * rows + r] = accA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD);
            out[(t + 2) * rows + r] = accC.reduceLanes(VectorOperators.ADD);
            out[(t + 3) * rows + r] = accD.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q8_0Tokens2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 34L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qa = t * cols;
        int qb = qa + cols;
        int sa = t * blocks;
        int sb = sa + blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = accA;
            for (int b = 0; b < blocks; b++, o += 34) {
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).castShape(S, 0);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                IntVector i = w0.mul(ShortVector.fromArray(S, q, qa + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qa + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accA = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sa + b]), accA);
                i = w0.mul(ShortVector.fromArray(S, q, qb + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qb + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accB = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sb + b]), accB);
            }
            out[t * rows + r] = accA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q8_0Tokens4(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 32;
        long rowBytes = 34L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qa = t * cols;
        int qb = qa + cols;
        int qc = qb + cols;
        int qd = qc + cols;
        int sa = t * blocks;
        int sb = sa + blocks;
        int sc = sb + blocks;
        int sd = sc + blocks;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = accA;
            FloatVector accC = accA;
            FloatVector accD = accA;
            for (int b = 0; b < blocks; b++, o += 34) {
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).castShape(S, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).castShape(S, 0);
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                IntVector i = w0.mul(ShortVector.fromArray(S, q, qa + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qa + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accA = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sa + b]), accA);
                i = w0.mul(ShortVector.fromArray(S, q, qb + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qb + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accB = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sb + b]), accB);
                i = w0.mul(ShortVector.fromArray(S, q, qc + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qc + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accC = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sc + b]), accC);
                i = w0.mul(ShortVector.fromArray(S, q, qd + 32 * b)).add(w1.mul(ShortVector.fromArray(S, q, qd + 32 * b + 16)))
                        .reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                accD = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sd + b]), accD);
            }
            out[t * rows + r] = accA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD);
            out[(t + 2) * rows + r] = accC.reduceLanes(VectorOperators.ADD);
            out[(t + 3) * rows + r] = accD.reduceLanes(VectorOperators.ADD);
        }
    }
    /*
     * Q4_K for 2 or 4 tokens: the block's scales and mins are unpacked once (see KQuantDotKernels), each token gets
     * its own 8 factors d * scale_j * dx_j and its own mins accumulator; the nibbles of each chunk are cut out once.
     */
    static void q4kTokens2(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 144L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qA = (t + 0) * cols;
        int sA = (t + 0) * cols / 32;
        int qB = (t + 1) * cols;
        int sB = (t + 1) * cols / 32;
        float[] ds = new float[16];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = FloatVector.zero(F);
            FloatVector minsA = FloatVector.zero(F);
            FloatVector minsB = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 144) {
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                float dmin = Float.float16ToFloat(w.get(SHORT_LE, o + 2));
                ByteVector packed = ByteVector.fromMemorySegment(B128, w, o + 4, LE);
                FloatVector sc = ((FloatVector) ((IntVector) packed.rearrange(KQuantDotKernels.SCALE_LOW).castShape(KQuantDotKernels.I, 0))
                        .and(KQuantDotKernels.SIX_OR_FOUR).or(((IntVector) packed.rearrange(KQuantDotKernels.SCALE_HIGH).castShape(KQuantDotKernels.I, 0))
                                .lanewise(VectorOperators.LSHR, 2).and(KQuantDotKernels.TOP_BITS)).convert(VectorOperators.I2F, 0)).mul(d);
                FloatVector mn = ((FloatVector) ((IntVector) packed.rearrange(KQuantDotKernels.MIN_LOW).castShape(KQuantDotKernels.I, 0))
                        .lanewise(VectorOperators.LSHR, KQuantDotKernels.MIN_SHIFT).and(KQuantDotKernels.SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(KQuantDotKernels.MIN_HIGH).castShape(KQuantDotKernels.I, 0))
                                .lanewise(VectorOperators.LSHR, 2).and(KQuantDotKernels.TOP_BITS)).convert(VectorOperators.I2F, 0)).mul(dmin);
                sc.mul(FloatVector.fromArray(F, xs, sA + 8 * b)).intoArray(ds, 0);
                minsA = mn.fma(FloatVector.fromArray(F, xsum, sA + 8 * b), minsA);
                sc.mul(FloatVector.fromArray(F, xs, sB + 8 * b)).intoArray(ds, 8);
                minsB = mn.fma(FloatVector.fromArray(F, xsum, sB + 8 * b), minsB);
                int qb = 256 * b;
                for (int c = 0; c < 4; c++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16 + 32 * c, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * c, LE).castShape(S, 0);
                    ShortVector lo0 = v0.and((short) 0xF);
                    ShortVector lo1 = v1.and((short) 0xF);
                    ShortVector hi0 = v0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                    ShortVector hi1 = v1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                    int x = qb + 64 * c;
                    IntVector i0 = lo0.mul(ShortVector.fromArray(S, q, qA + x)).add(lo1.mul(ShortVector.fromArray(S, q, qA + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accA = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[0 + 2 * c]), accA);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qA + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qA + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accA = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[1 + 2 * c]), accA);
                    i0 = lo0.mul(ShortVector.fromArray(S, q, qB + x)).add(lo1.mul(ShortVector.fromArray(S, q, qB + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accB = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[8 + 2 * c]), accB);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qB + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qB + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accB = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[9 + 2 * c]), accB);
                }
            }
            out[(t + 0) * rows + r] = accA.reduceLanes(VectorOperators.ADD) - minsA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD) - minsB.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q4kTokens4(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int rows, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 144L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        float[] xsum = a.sum;
        int qA = (t + 0) * cols;
        int sA = (t + 0) * cols / 32;
        int qB = (t + 1) * cols;
        int sB = (t + 1) * cols / 32;
        int qC = (t + 2) * cols;
        int sC = (t + 2) * cols / 32;
        int qD = (t + 3) * cols;
        int sD = (t + 3) * cols / 32;
        float[] ds = new float[32];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector accA = FloatVector.zero(F);
            FloatVector accB = FloatVector.zero(F);
            FloatVector accC = FloatVector.zero(F);
            FloatVector accD = FloatVector.zero(F);
            FloatVector minsA = FloatVector.zero(F);
            FloatVector minsB = FloatVector.zero(F);
            FloatVector minsC = FloatVector.zero(F);
            FloatVector minsD = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 144) {
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                float dmin = Float.float16ToFloat(w.get(SHORT_LE, o + 2));
                ByteVector packed = ByteVector.fromMemorySegment(B128, w, o + 4, LE);
                FloatVector sc = ((FloatVector) ((IntVector) packed.rearrange(KQuantDotKernels.SCALE_LOW).castShape(KQuantDotKernels.I, 0))
                        .and(KQuantDotKernels.SIX_OR_FOUR).or(((IntVector) packed.rearrange(KQuantDotKernels.SCALE_HIGH).castShape(KQuantDotKernels.I, 0))
                                .lanewise(VectorOperators.LSHR, 2).and(KQuantDotKernels.TOP_BITS)).convert(VectorOperators.I2F, 0)).mul(d);
                FloatVector mn = ((FloatVector) ((IntVector) packed.rearrange(KQuantDotKernels.MIN_LOW).castShape(KQuantDotKernels.I, 0))
                        .lanewise(VectorOperators.LSHR, KQuantDotKernels.MIN_SHIFT).and(KQuantDotKernels.SIX_OR_FOUR)
                        .or(((IntVector) packed.rearrange(KQuantDotKernels.MIN_HIGH).castShape(KQuantDotKernels.I, 0))
                                .lanewise(VectorOperators.LSHR, 2).and(KQuantDotKernels.TOP_BITS)).convert(VectorOperators.I2F, 0)).mul(dmin);
                sc.mul(FloatVector.fromArray(F, xs, sA + 8 * b)).intoArray(ds, 0);
                minsA = mn.fma(FloatVector.fromArray(F, xsum, sA + 8 * b), minsA);
                sc.mul(FloatVector.fromArray(F, xs, sB + 8 * b)).intoArray(ds, 8);
                minsB = mn.fma(FloatVector.fromArray(F, xsum, sB + 8 * b), minsB);
                sc.mul(FloatVector.fromArray(F, xs, sC + 8 * b)).intoArray(ds, 16);
                minsC = mn.fma(FloatVector.fromArray(F, xsum, sC + 8 * b), minsC);
                sc.mul(FloatVector.fromArray(F, xs, sD + 8 * b)).intoArray(ds, 24);
                minsD = mn.fma(FloatVector.fromArray(F, xsum, sD + 8 * b), minsD);
                int qb = 256 * b;
                for (int c = 0; c < 4; c++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16 + 32 * c, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * c, LE).castShape(S, 0);
                    ShortVector lo0 = v0.and((short) 0xF);
                    ShortVector lo1 = v1.and((short) 0xF);
                    ShortVector hi0 = v0.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                    ShortVector hi1 = v1.lanewise(VectorOperators.ASHR, 4).and((short) 0xF);
                    int x = qb + 64 * c;
                    IntVector i0 = lo0.mul(ShortVector.fromArray(S, q, qA + x)).add(lo1.mul(ShortVector.fromArray(S, q, qA + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accA = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[0 + 2 * c]), accA);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qA + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qA + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accA = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[1 + 2 * c]), accA);
                    i0 = lo0.mul(ShortVector.fromArray(S, q, qB + x)).add(lo1.mul(ShortVector.fromArray(S, q, qB + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accB = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[8 + 2 * c]), accB);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qB + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qB + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accB = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[9 + 2 * c]), accB);
                    i0 = lo0.mul(ShortVector.fromArray(S, q, qC + x)).add(lo1.mul(ShortVector.fromArray(S, q, qC + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accC = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[16 + 2 * c]), accC);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qC + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qC + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accC = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[17 + 2 * c]), accC);
                    i0 = lo0.mul(ShortVector.fromArray(S, q, qD + x)).add(lo1.mul(ShortVector.fromArray(S, q, qD + x + 16))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accD = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[24 + 2 * c]), accD);
                    i0 = hi0.mul(ShortVector.fromArray(S, q, qD + x + 32)).add(hi1.mul(ShortVector.fromArray(S, q, qD + x + 48))).reinterpretAsInts();
                    i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                    accD = ((FloatVector) i0.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, ds[25 + 2 * c]), accD);
                }
            }
            out[(t + 0) * rows + r] = accA.reduceLanes(VectorOperators.ADD) - minsA.reduceLanes(VectorOperators.ADD);
            out[(t + 1) * rows + r] = accB.reduceLanes(VectorOperators.ADD) - minsB.reduceLanes(VectorOperators.ADD);
            out[(t + 2) * rows + r] = accC.reduceLanes(VectorOperators.ADD) - minsC.reduceLanes(VectorOperators.ADD);
            out[(t + 3) * rows + r] = accD.reduceLanes(VectorOperators.ADD) - minsD.reduceLanes(VectorOperators.ADD);
        }
    }
}
