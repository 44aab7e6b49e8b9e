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
 * Batched decode for a few tokens (several server streams): Q4_0 and Q8_0 weights against the int8 activations of
 * 2 or 4 tokens, {@code out[(t+j)*rows + r] = W[r] . x~_(t+j)}. Each weight block is loaded and unpacked once and
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
}
