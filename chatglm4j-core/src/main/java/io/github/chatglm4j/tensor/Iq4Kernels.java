package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F;
import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;
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
 * IQ4_NL and IQ4_XS: exact block decoders and int8-activation mat-vec kernels, one flat method each.
 *
 * <p>Their 4-bit values index a non-linear grid of 16 int8 levels. Each 32-weight group's 16 bytes are loaded as one
 * 128-bit byte vector; the low and high nibbles are looked up in the grid in byte lanes ({@code selectFrom} on a
 * 16-byte table is one byte shuffle) and only then widened to 16 short lanes, so the rest is the Q8_0 kernel:
 * 16-bit products with the int8 activations, the two halves added, and a pair sum into 8 int lanes in the form that
 * keeps 17 bits (grid levels reach 127 in magnitude, so a pair of products can exceed 2^15).
 */
final class Iq4Kernels {

    /** {@code kvalues_iq4nl}: the grid levels, as bytes for the lookups. */
    private static final byte[] GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    static final ByteVector GRID_B128 = ByteVector.fromArray(B128, GRID, 0);

    private Iq4Kernels() {
    }

    /** IQ4_NL (18 bytes: d, 16 bytes of indices; byte j holds weight j low, j+16 high): {@code w = d·GRID[q]}. */
    static void iq4nlDecode(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 18, p += 32) {
            group(src, o + 2, f16(src, o), dst, p);
        }
    }

    /** IQ4_XS (136 bytes: d, scales_h, 4 bytes scales_l, 8 groups of 16 index bytes): {@code w = d·(sc-32)·GRID[q]}. */
    static void iq4xsDecode(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 136, p += 256) {
            float d = f16(src, o);
            int high = src.get(SHORT_LE, o + 2) & 0xFFFF;
            for (int g = 0; g < 8; g++) {
                group(src, o + 8 + 16 * g, d * (iq4xsScale(src, o, high, g) - 32), dst, p + 32 * g);
            }
        }
    }

    /** The 6-bit scale (0..63) of group {@code g} of the IQ4_XS block at {@code o} whose scales_h is {@code high}. */
    static int iq4xsScale(MemorySegment src, long o, int high, int g) {
        return (src.get(ValueLayout.JAVA_BYTE, o + 4 + g / 2) & 0xFF) >> (4 * (g % 2)) & 0xF | (high >> (2 * g) & 3) << 4;
    }

    /** Decodes the 32 weights whose 16 index bytes are at {@code qs}, scaled by {@code d}. */
    private static void group(MemorySegment src, long qs, float d, float[] dst, int p) {
        ByteVector v = ByteVector.fromMemorySegment(B128, src, qs, LE);
        ByteVector lo = v.and((byte) 0xF).selectFrom(GRID_B128);
        ByteVector hi = v.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID_B128);
        ((FloatVector) lo.castShape(F, 0)).mul(d).intoArray(dst, p);
        ((FloatVector) lo.castShape(F, 1)).mul(d).intoArray(dst, p + 8);
        ((FloatVector) hi.castShape(F, 0)).mul(d).intoArray(dst, p + 16);
        ((FloatVector) hi.castShape(F, 1)).mul(d).intoArray(dst, p + 24);
    }

    static void iq4nlRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
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
                ByteVector v = ByteVector.fromMemorySegment(B128, w, o + 2, LE);
                ShortVector lo = (ShortVector) v.and((byte) 0xF).selectFrom(GRID_B128).castShape(S, 0);
                ShortVector hi = (ShortVector) v.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID_B128).castShape(S, 0);
                IntVector i = lo.mul(ShortVector.fromArray(S, q, qBase + 32 * b))
                        .add(hi.mul(ShortVector.fromArray(S, q, qBase + 32 * b + 16))).reinterpretAsInts();
                i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                float d = Float.float16ToFloat(w.get(SHORT_LE, o)) * xs[sBase + b];
                acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    static void iq4xsRows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1) {
        int blocks = cols / 256;
        long rowBytes = 136L * blocks;
        short[] q = a.q;
        float[] xs = a.scale;
        int qBase = t * cols;
        int sBase = t * cols / 32;
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++, o += 136) {
                float d = Float.float16ToFloat(w.get(SHORT_LE, o));
                int high = w.get(SHORT_LE, o + 2) & 0xFFFF;
                for (int g = 0; g < 8; g++) {
                    ByteVector v = ByteVector.fromMemorySegment(B128, w, o + 8 + 16 * g, LE);
                    ShortVector lo = (ShortVector) v.and((byte) 0xF).selectFrom(GRID_B128).castShape(S, 0);
                    ShortVector hi = (ShortVector) v.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID_B128).castShape(S, 0);
                    int x = qBase + 256 * b + 32 * g;
                    IntVector i = lo.mul(ShortVector.fromArray(S, q, x)).add(hi.mul(ShortVector.fromArray(S, q, x + 16))).reinterpretAsInts();
                    i = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                    float dl = d * (iq4xsScale(w, o, high, g) - 32) * xs[sBase + 8 * b + g];
                    acc = ((FloatVector) i.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, dl), acc);
                }
            }
            out[outBase + r] = acc.reduceLanes(VectorOperators.ADD);
        }
    }
}
