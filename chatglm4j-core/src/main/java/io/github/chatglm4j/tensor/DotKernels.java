package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.F16_MASK;
import static io.github.chatglm4j.tensor.Decode.F16_SCALE;
import static io.github.chatglm4j.tensor.Decode.HALVES;
import static io.github.chatglm4j.tensor.Decode.INTS;
import static io.github.chatglm4j.tensor.Decode.LANES;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.FLOAT_LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Mat-vec kernels: {@code out[r] = W[r] . x} for a range of rows, one flat method per stored type.
 *
 * <p>Mat-vec streams every weight once, so these are bound by memory bandwidth; they decode the weights in
 * registers straight from the (mapped) segment. Each dot product is written out in full rather than calling a
 * shared vector helper: a helper that C2 fails to inline boxes its vectors and costs about 10x. Four accumulators
 * hide the FMA latency; the remainder runs 8 lanes at a time, then scalar.
 */
final class DotKernels {

    private DotKernels() {
    }

    static void f32Rows(MemorySegment w, int cols, float[] x, float[] out, int r0, int r1) {
        int wide = cols - cols % (4 * LANES);
        int narrow = cols - cols % LANES;
        for (int r = r0; r < r1; r++) {
            long row = (long) r * cols * 4;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            int c = 0;
            for (; c < wide; c += 4 * LANES) {
                long o = row + 4L * c;
                s0 = FloatVector.fromMemorySegment(F, w, o, LE).fma(FloatVector.fromArray(F, x, c), s0);
                s1 = FloatVector.fromMemorySegment(F, w, o + 32, LE).fma(FloatVector.fromArray(F, x, c + 8), s1);
                s2 = FloatVector.fromMemorySegment(F, w, o + 64, LE).fma(FloatVector.fromArray(F, x, c + 16), s2);
                s3 = FloatVector.fromMemorySegment(F, w, o + 96, LE).fma(FloatVector.fromArray(F, x, c + 24), s3);
            }
            for (; c < narrow; c += LANES) {
                s0 = FloatVector.fromMemorySegment(F, w, row + 4L * c, LE).fma(FloatVector.fromArray(F, x, c), s0);
            }
            float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                sum += w.get(FLOAT_LE, row + 4L * c) * x[c];
            }
            out[r] = sum;
        }
    }

    static void f16Rows(MemorySegment w, int cols, float[] x, float[] out, int r0, int r1) {
        int wide = cols - cols % (4 * LANES);
        int narrow = cols - cols % LANES;
        for (int r = r0; r < r1; r++) {
            long row = (long) r * cols * 2;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            int c = 0;
            for (; c < wide; c += 4 * LANES) {
                long o = row + 2L * c;
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
                FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 16, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
                FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 32, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
                FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 48, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
                s0 = w0.fma(FloatVector.fromArray(F, x, c), s0);
                s1 = w1.fma(FloatVector.fromArray(F, x, c + 8), s1);
                s2 = w2.fma(FloatVector.fromArray(F, x, c + 16), s2);
                s3 = w3.fma(FloatVector.fromArray(F, x, c + 24), s3);
            }
            for (; c < narrow; c += LANES) {
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, row + 2L * c, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
                s0 = w0.fma(FloatVector.fromArray(F, x, c), s0);
            }
            float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                sum += Decode.f16(w.get(SHORT_LE, row + 2L * c)) * x[c];
            }
            out[r] = sum;
        }
    }

    static void bf16Rows(MemorySegment w, int cols, float[] x, float[] out, int r0, int r1) {
        int wide = cols - cols % (4 * LANES);
        int narrow = cols - cols % LANES;
        for (int r = r0; r < r1; r++) {
            long row = (long) r * cols * 2;
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            int c = 0;
            for (; c < wide; c += 4 * LANES) {
                long o = row + 2L * c;
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 16, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 32, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, o + 48, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                s0 = w0.fma(FloatVector.fromArray(F, x, c), s0);
                s1 = w1.fma(FloatVector.fromArray(F, x, c + 8), s1);
                s2 = w2.fma(FloatVector.fromArray(F, x, c + 16), s2);
                s3 = w3.fma(FloatVector.fromArray(F, x, c + 24), s3);
            }
            for (; c < narrow; c += LANES) {
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(HALVES, w, row + 2L * c, LE).castShape(INTS, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                s0 = w0.fma(FloatVector.fromArray(F, x, c), s0);
            }
            float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; c < cols; c++) {
                sum += Decode.bf16(w.get(SHORT_LE, row + 2L * c)) * x[c];
            }
            out[r] = sum;
        }
    }
}
