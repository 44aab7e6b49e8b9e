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
 * same two 16-byte vectors of its half, shifted by {@code 2g}: the kernels load them once per half and shift them
 * by two bits per group. The 4-bit (Q2_K) or 6-bit signed (Q3_K) sub-block scale multiplies the levels in 16-bit
 * lanes before the activations do, so that both halves of an activation block add up in one vector: one pair sum,
 * one conversion and one FMA per 32 weights (scaling after the pair sums, as the Q6_K kernel does, measured 1.17x
 * slower for Q2_K). Q2_K's mins ({@code dmin·min}) multiply the activations the same way into a second accumulator,
 * subtracted at the end. The sub-block scales are read as whole words and cut with shifts, without loops or arrays:
 * Q3_K's first version unpacked them in a loop into an array, and C2 deoptimized the kernel again and again on a
 * failing loop predicate (13696x4096 at 14-50 ms instead of 6.7 ms, one thread).
 */
final class LowBitKQuantKernels {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);

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
                    long scales = w.get(LONG_LE, o + 8 * h); // the 8 scale/min bytes of this half, read once
                    for (int g = 0; g < 4; g++) {
                        int k = 4 * h + g;
                        int x = qBase + 256 * b + 32 * k;
                        ShortVector a0 = ShortVector.fromArray(S, q, x);
                        ShortVector a1 = ShortVector.fromArray(S, q, x + 16);
                        int sc0 = (int) (scales >>> (16 * g)) & 0xFF;
                        int sc1 = (int) (scales >>> (16 * g + 8)) & 0xFF;
                        // (q·sc)·x per lane: at most 3·15·127, two of them 11430, their pair sums 22860 < 2^15
                        IntVector p = v0.and((short) 3).mul((short) (sc0 & 0xF)).mul(a0)
                                .add(v1.and((short) 3).mul((short) (sc1 & 0xF)).mul(a1)).reinterpretAsInts();
                        IntVector m = a0.mul((short) (sc0 >> 4)).add(a1.mul((short) (sc1 >> 4))).reinterpretAsInts();
                        p = p.lanewise(VectorOperators.LSHL, 16).add(p).lanewise(VectorOperators.ASHR, 16);
                        m = m.lanewise(VectorOperators.LSHL, 16).add(m).lanewise(VectorOperators.ASHR, 16);
                        float dx = xs[sBase + 8 * b + k];
                        acc = ((FloatVector) p.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * dx), acc);
                        mins = ((FloatVector) m.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dmin * dx), mins);
                        v0 = v0.lanewise(VectorOperators.ASHR, 2);
                        v1 = v1.lanewise(VectorOperators.ASHR, 2);
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
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 110) {
                float d = f16(w, o + 108);
                // the sixteen 6-bit scales, one per byte, in two longs: low nibbles of bytes 0-7, then their high
                // nibbles, each with its two top bits from bytes 8-11 (straight-line code: a loop here made C2
                // deoptimize the kernel over and over on a failing loop predicate)
                int a0 = w.get(QuantDecode.INT_LE, o + 96);
                int a1 = w.get(QuantDecode.INT_LE, o + 100);
                int a2 = w.get(QuantDecode.INT_LE, o + 104);
                long scLow = (a0 & 0x0F0F0F0FL | (a2 & 0x03030303L) << 4)
                        | (a1 & 0x0F0F0F0FL | (a2 >>> 2 & 0x03030303L) << 4) << 32;
                long scHigh = (a0 >>> 4 & 0x0F0F0F0FL | (a2 >>> 4 & 0x03030303L) << 4)
                        | (a1 >>> 4 & 0x0F0F0F0FL | (a2 >>> 6 & 0x03030303L) << 4) << 32;
                // the high bit of group k sits at bit k of the hmask bytes: shifted to bit 2 (value 4), one step per group
                ShortVector h0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o, LE).castShape(S, 0)).lanewise(VectorOperators.LSHL, 2);
                ShortVector h1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16, LE).castShape(S, 0)).lanewise(VectorOperators.LSHL, 2);
                for (int h = 0; h < 2; h++) {
                    ShortVector v0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32 + 32 * h, LE).castShape(S, 0);
                    ShortVector v1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 48 + 32 * h, LE).castShape(S, 0);
                    long scales = h == 0 ? scLow : scHigh;
                    for (int g = 0; g < 4; g++) {
                        int k = 4 * h + g;
                        int x = qBase + 256 * b + 32 * k;
                        short sc0 = (short) ((scales >>> (16 * g) & 0xFF) - 32);
                        short sc1 = (short) ((scales >>> (16 * g + 8) & 0xFF) - 32);
                        ShortVector q0 = v0.and((short) 3).or(h0.and((short) 4)).sub((short) 4);
                        ShortVector q1 = v1.and((short) 3).or(h1.and((short) 4)).sub((short) 4);
                        // (q·sc)·x per lane: at most 4·32·127, two of them 32512 < 2^15; the pair sums need 17 bits
                        IntVector i = q0.mul(sc0).mul(ShortVector.fromArray(S, q, x))
                                .add(q1.mul(sc1).mul(ShortVector.fromArray(S, q, x + 16))).reinterpretAsInts();
                        i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                        acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * xs[sBase + 8 * b + k]), acc);
                        v0 = v0.lanewise(VectorOperators.ASHR, 2);
                        v1 = v1.lanewise(VectorOperators.ASHR, 2);
                        h0 = h0.lanewise(VectorOperators.ASHR, 1);
                        h1 = h1.lanewise(VectorOperators.ASHR, 1);
                    }
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }
}
