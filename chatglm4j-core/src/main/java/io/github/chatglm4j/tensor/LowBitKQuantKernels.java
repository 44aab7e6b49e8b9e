package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.QuantDecode.bytes8;
import static io.github.chatglm4j.tensor.QuantDecode.f16;
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
 * Q2_K and Q3_K: exact block decoders and int8-activation mat-vec kernels, one flat method each.
 *
 * <p>Both types have sub-blocks of 16 weights with their own scale, and the 2-bit parts of weight
 * {@code 128h + 32g + l} sit in bits {@code 2g, 2g+1} of byte {@code 32h + l} (Q3_K adds a high bit: bit
 * {@code 4h + g} of hmask byte {@code l}). So each 32-activation block {@code k = 4h + g} of a super-block reads the
 * same two 16-byte vectors of its half, shifted by {@code 2g}: the kernels load them once per half. As in the Q6_K
 * kernel, the two 16-weight halves of an activation block are pair-summed separately ({@code q·x} fits 16-bit lanes),
 * scaled by their integer sub-block scales in int lanes and added before the one conversion and FMA. Q2_K's mins
 * ({@code dmin·min}) multiply the integer sums of the activations of each half, accumulated apart and subtracted at
 * the end.
 */
final class LowBitKQuantKernels {

    private LowBitKQuantKernels() {
    }

    /** Q2_K (84 bytes: 16 scale/min bytes, 64 bytes of 2-bit levels, d, dmin): {@code w = d·sc·q - dmin·m}. */
    static void q2kDecode(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 84, p += 256) {
            float d = f16(src, o + 80);
            float dmin = f16(src, o + 82);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += 8) {
                    IntVector v = bytes8(src, o + 16 + 32L * h + l);
                    for (int g = 0; g < 4; g++) {
                        int sc = src.get(ValueLayout.JAVA_BYTE, o + 8 * h + 2 * g + l / 16) & 0xFF;
                        float dl = d * (sc & 0xF);
                        float ml = dmin * (sc >> 4);
                        ((FloatVector) v.lanewise(VectorOperators.ASHR, 2 * g).and(3).convert(VectorOperators.I2F, 0))
                                .mul(dl).sub(ml).intoArray(dst, p + 128 * h + 32 * g + l);
                    }
                }
            }
        }
    }

    /** The 6-bit scale (0..63) of sub-block {@code j} of a Q3_K block whose 12 scale bytes start at {@code s}. */
    static int q3kScale(MemorySegment src, long s, int j) {
        int low = j < 8 ? src.get(ValueLayout.JAVA_BYTE, s + j) & 0xF : (src.get(ValueLayout.JAVA_BYTE, s + j - 8) & 0xFF) >> 4;
        int high = (src.get(ValueLayout.JAVA_BYTE, s + 8 + j % 4) & 0xFF) >> (2 * (j / 4)) & 3;
        return low | high << 4;
    }

    /** Q3_K (110 bytes: 32 hmask bytes, 64 bytes of 2-bit parts, 12 scale bytes, d): {@code w = d·(sc-32)·(q-4)}. */
    static void q3kDecode(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 110, p += 256) {
            float d = f16(src, o + 108);
            for (int h = 0; h < 2; h++) {
                for (int l = 0; l < 32; l += 8) {
                    IntVector v = bytes8(src, o + 32 + 32L * h + l);
                    IntVector hm = bytes8(src, o + l);
                    for (int g = 0; g < 4; g++) {
                        float dl = d * (q3kScale(src, o + 96, 8 * h + 2 * g + l / 16) - 32);
                        IntVector q = v.lanewise(VectorOperators.ASHR, 2 * g).and(3)
                                .or(hm.lanewise(VectorOperators.ASHR, 4 * h + g).and(1).lanewise(VectorOperators.LSHL, 2)).sub(4);
                        ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(dl).intoArray(dst, p + 128 * h + 32 * g + l);
                    }
                }
            }
        }
    }

    static void q2kRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 84L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            FloatVector mins = acc;
            for (int b = 0; b < blocks; b++, o += 84) {
                float d = f16(w, o + 80);
                float dmin = f16(w, o + 82);
                for (int h = 0; h < 2; h++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16 + 32 * h, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * h, LE).castShape(S, 0);
                    for (int g = 0; g < 4; g++) {
                        int k = 4 * h + g;
                        int x = qBase + 256 * b + 32 * k;
                        ShortVector a0 = ShortVector.fromArray(S, q, x);
                        ShortVector a1 = ShortVector.fromArray(S, q, x + 16);
                        int sc0 = w.get(ValueLayout.JAVA_BYTE, o + 2 * k) & 0xFF;
                        int sc1 = w.get(ValueLayout.JAVA_BYTE, o + 2 * k + 1) & 0xFF;
                        IntVector i0 = v0.lanewise(VectorOperators.ASHR, 2 * g).and((short) 3).mul(a0).reinterpretAsInts();
                        IntVector i1 = v1.lanewise(VectorOperators.ASHR, 2 * g).and((short) 3).mul(a1).reinterpretAsInts();
                        i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                        i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                        IntVector s0 = a0.reinterpretAsInts();
                        IntVector s1 = a1.reinterpretAsInts();
                        s0 = s0.lanewise(VectorOperators.LSHL, 16).add(s0).lanewise(VectorOperators.ASHR, 16);
                        s1 = s1.lanewise(VectorOperators.LSHL, 16).add(s1).lanewise(VectorOperators.ASHR, 16);
                        float dx = xs[sBase + 8 * b + k];
                        acc = ((FloatVector) i0.mul(sc0 & 0xF).add(i1.mul(sc1 & 0xF)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, d * dx), acc);
                        mins = ((FloatVector) s0.mul(sc0 >> 4).add(s1.mul(sc1 >> 4)).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, dmin * dx), mins);
                    }
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
        }
    }

    static void q3kRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 110L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        int[] sc = new int[16];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 110) {
                float d = f16(w, o + 108);
                for (int j = 0; j < 16; j++) {
                    sc[j] = q3kScale(w, o + 96, j) - 32;
                }
                ShortVector hm0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o, LE).castShape(S, 0);
                ShortVector hm1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16, LE).castShape(S, 0);
                for (int h = 0; h < 2; h++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * h, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 48 + 32 * h, LE).castShape(S, 0);
                    for (int g = 0; g < 4; g++) {
                        int k = 4 * h + g;
                        int x = qBase + 256 * b + 32 * k;
                        ShortVector q0 = v0.lanewise(VectorOperators.ASHR, 2 * g).and((short) 3)
                                .or(hm0.lanewise(VectorOperators.ASHR, k).and((short) 1).lanewise(VectorOperators.LSHL, 2)).sub((short) 4);
                        ShortVector q1 = v1.lanewise(VectorOperators.ASHR, 2 * g).and((short) 3)
                                .or(hm1.lanewise(VectorOperators.ASHR, k).and((short) 1).lanewise(VectorOperators.LSHL, 2)).sub((short) 4);
                        IntVector i0 = q0.mul(ShortVector.fromArray(S, q, x)).reinterpretAsInts();
                        IntVector i1 = q1.mul(ShortVector.fromArray(S, q, x + 16)).reinterpretAsInts();
                        i0 = i0.lanewise(VectorOperators.LSHL, 16).add(i0).lanewise(VectorOperators.ASHR, 16);
                        i1 = i1.lanewise(VectorOperators.LSHL, 16).add(i1).lanewise(VectorOperators.ASHR, 16);
                        acc = ((FloatVector) i0.mul(sc[2 * k]).add(i1.mul(sc[2 * k + 1])).convert(VectorOperators.I2F, 0))
                                .fma(FloatVector.broadcast(F, d * xs[sBase + 8 * b + k]), acc);
                    }
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }
}
