package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.LE;
import static io.github.chatglm4j.tensor.Decode.SHORT_LE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact decoding of ggml's block-quantized types into float32, whole blocks at a time.
 *
 * <p>"Exact" means bit-identical to ggml's reference dequantizers, which compute each value with float32
 * operations in a fixed order: {@code d*(q-8)} for Q4_0, {@code d*q + m} for Q4_1/Q5_1, {@code (d*sc)*q - dmin*m}
 * for Q4_K/Q5_K and {@code (d*sc)*q} for Q6_K. Java never fuses a multiply and an add, so writing the same
 * operations in the same order gives the same bits. Every 8 weights are one narrow byte load (64 bits) widened
 * to 8 int lanes ({@code castShape} part 0 is a single instruction), the bit fields are cut out in 32-bit lanes,
 * converted to float and scaled.
 *
 * <p>Block layouts (little-endian, f16 = IEEE half):
 * <ul>
 * <li>Q8_0: d, q[32] (int8); w = d*q.
 * <li>Q4_0: d, qs[16]; byte j holds weight j (low nibble) and j+16 (high nibble); w = d*(q-8).
 * <li>Q4_1: d, m, qs[16] as Q4_0; w = d*q + m.
 * <li>Q5_0: d, qh (u32), qs[16]; bit j of qh is the fifth bit of weight j; w = d*(q-16).
 * <li>Q5_1: d, m, qh, qs[16]; w = d*q + m.
 * <li>Q4_K: d, dmin, scales[12] (8 pairs of 6-bit scale and min), qs[128]; 64-weight chunk c uses bytes
 *     qs[32c..32c+31], low nibbles for sub-block 2c, high nibbles for 2c+1; w = d*sc*q - dmin*m.
 * <li>Q5_K: as Q4_K with qh[32] before qs; bit 2c (2c+1) of qh[l] is the fifth bit of weight l of sub-block
 *     2c (2c+1).
 * <li>Q6_K: ql[128], qh[64], scales[16] (int8), d last; see {@link #q6k}.
 * </ul>
 */
final class QuantDecode {

    static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

    /** Per-lane shift counts 0..7, to spread the bits of a broadcast word over 8 lanes. */
    private static final IntVector LANE_SHIFTS = IntVector.fromArray(I, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 0);

    private QuantDecode() {
    }

    static float f16(MemorySegment src, long offset) {
        return Float.float16ToFloat(src.get(SHORT_LE, offset));
    }

    /** 8 bytes at {@code offset} widened (sign-extended) to 8 int lanes. */
    static IntVector bytes8(MemorySegment src, long offset) {
        return (IntVector) ByteVector.fromMemorySegment(B64, src, offset, LE).castShape(I, 0);
    }

    static void q8_0(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 34, p += 32) {
            float d = f16(src, o);
            for (int j = 0; j < 32; j += 8) {
                ((FloatVector) bytes8(src, o + 2 + j).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, p + j);
            }
        }
    }

    static void q4_0(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 18, p += 32) {
            float d = f16(src, o);
            for (int j = 0; j < 16; j += 8) {
                IntVector v = bytes8(src, o + 2 + j);
                ((FloatVector) v.and(0xF).sub(8).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, p + j);
                ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8).convert(VectorOperators.I2F, 0))
                        .mul(d).intoArray(dst, p + 16 + j);
            }
        }
    }

    static void q4_1(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 20, p += 32) {
            float d = f16(src, o);
            float m = f16(src, o + 2);
            for (int j = 0; j < 16; j += 8) {
                IntVector v = bytes8(src, o + 4 + j);
                ((FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0)).mul(d)
                        .add(m).intoArray(dst, p + j);
                ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0))
                        .mul(d).add(m).intoArray(dst, p + 16 + j);
            }
        }
    }

    static void q5_0(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 22, p += 32) {
            float d = f16(src, o);
            IntVector qh = IntVector.broadcast(I, src.get(INT_LE, o + 2));
            for (int j = 0; j < 16; j += 8) {
                IntVector v = bytes8(src, o + 6 + j);
                IntVector hLo = qh.lanewise(VectorOperators.LSHR, LANE_SHIFTS.add(j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hHi = qh.lanewise(VectorOperators.LSHR, LANE_SHIFTS.add(16 + j)).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) v.and(0xF).or(hLo).sub(16).convert(VectorOperators.I2F, 0)).mul(d).intoArray(dst, p + j);
                ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hHi).sub(16).convert(VectorOperators.I2F, 0))
                        .mul(d).intoArray(dst, p + 16 + j);
            }
        }
    }

    static void q5_1(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 24, p += 32) {
            float d = f16(src, o);
            float m = f16(src, o + 2);
            IntVector qh = IntVector.broadcast(I, src.get(INT_LE, o + 4));
            for (int j = 0; j < 16; j += 8) {
                IntVector v = bytes8(src, o + 8 + j);
                IntVector hLo = qh.lanewise(VectorOperators.LSHR, LANE_SHIFTS.add(j)).and(1).lanewise(VectorOperators.LSHL, 4);
                IntVector hHi = qh.lanewise(VectorOperators.LSHR, LANE_SHIFTS.add(16 + j)).and(1).lanewise(VectorOperators.LSHL, 4);
                ((FloatVector) v.and(0xF).or(hLo).convert(VectorOperators.I2F, 0)).mul(d)
                        .add(m).intoArray(dst, p + j);
                ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hHi).convert(VectorOperators.I2F, 0))
                        .mul(d).add(m).intoArray(dst, p + 16 + j);
            }
        }
    }

    /**
     * The 6-bit scale ({@code which = 0}) or min ({@code which = 1}) of sub-block {@code j} (0..7) of a Q4_K/Q5_K
     * block whose 12 scale bytes start at {@code s}: sub-blocks 0-3 keep theirs in the low 6 bits of bytes j
     * (scale) and j+4 (min); sub-blocks 4-7 combine a nibble of byte j+4 with the top two bits of byte j-4 (scale)
     * or j (min).
     */
    static int scaleMin(MemorySegment src, long s, int j, int which) {
        if (j < 4) {
            return src.get(ValueLayout.JAVA_BYTE, s + j + 4L * which) & 63;
        }
        int packed = src.get(ValueLayout.JAVA_BYTE, s + j + 4) & 0xFF;
        int top = (src.get(ValueLayout.JAVA_BYTE, s + j - 4 + 4L * which) & 0xFF) >>> 6;
        return (which == 0 ? packed & 0xF : packed >>> 4) | top << 4;
    }

    static void q4k(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 144, p += 256) {
            float d = f16(src, o);
            float dmin = f16(src, o + 2);
            for (int c = 0; c < 4; c++) {
                float d1 = d * scaleMin(src, o + 4, 2 * c, 0);
                float m1 = dmin * scaleMin(src, o + 4, 2 * c, 1);
                float d2 = d * scaleMin(src, o + 4, 2 * c + 1, 0);
                float m2 = dmin * scaleMin(src, o + 4, 2 * c + 1, 1);
                long q = o + 16 + 32L * c;
                int y = p + 64 * c;
                for (int l = 0; l < 32; l += 8) {
                    IntVector v = bytes8(src, q + l);
                    ((FloatVector) v.and(0xF).convert(VectorOperators.I2F, 0)).mul(d1)
                            .sub(m1).intoArray(dst, y + l);
                    ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0))
                            .mul(d2).sub(m2).intoArray(dst, y + 32 + l);
                }
            }
        }
    }

    static void q5k(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 176, p += 256) {
            float d = f16(src, o);
            float dmin = f16(src, o + 2);
            for (int c = 0; c < 4; c++) {
                float d1 = d * scaleMin(src, o + 4, 2 * c, 0);
                float m1 = dmin * scaleMin(src, o + 4, 2 * c, 1);
                float d2 = d * scaleMin(src, o + 4, 2 * c + 1, 0);
                float m2 = dmin * scaleMin(src, o + 4, 2 * c + 1, 1);
                long q = o + 48 + 32L * c;
                int y = p + 64 * c;
                for (int l = 0; l < 32; l += 8) {
                    IntVector v = bytes8(src, q + l);
                    IntVector h = bytes8(src, o + 16 + l);
                    ((FloatVector) v.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2 * c).and(1).lanewise(VectorOperators.LSHL, 4))
                            .convert(VectorOperators.I2F, 0)).mul(d1)
                            .sub(m1).intoArray(dst, y + l);
                    ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0xF)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * c + 1).and(1).lanewise(VectorOperators.LSHL, 4))
                            .convert(VectorOperators.I2F, 0)).mul(d2)
                            .sub(m2).intoArray(dst, y + 32 + l);
                }
            }
        }
    }

    /**
     * Q6_K: each 128-weight half h uses ql[64h..64h+63], qh[32h..32h+31] and scales[8h..8h+7]. For l in 0..31 the
     * four weights l, l+32, l+64, l+96 take their low 4 bits from the low nibble of ql[l], the low nibble of
     * ql[l+32], the high nibble of ql[l] and the high nibble of ql[l+32], and their top 2 bits from bit pairs 0-1,
     * 2-3, 4-5, 6-7 of qh[l]; the value is {@code (d*scale)*(q-32)} with one int8 scale per 16 weights.
     */
    static void q6k(MemorySegment src, long o, float[] dst, int p, int blocks) {
        for (int b = 0; b < blocks; b++, o += 210, p += 256) {
            float d = f16(src, o + 208);
            for (int h = 0; h < 2; h++) {
                long ql = o + 64L * h;
                long qh = o + 128 + 32L * h;
                long sc = o + 192 + 8L * h;
                int y = p + 128 * h;
                for (int l = 0; l < 32; l += 8) {
                    int is = l / 16;
                    float s0 = d * src.get(ValueLayout.JAVA_BYTE, sc + is);
                    float s1 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2);
                    float s2 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4);
                    float s3 = d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6);
                    IntVector a = bytes8(src, ql + l);
                    IntVector c = bytes8(src, ql + 32 + l);
                    IntVector hb = bytes8(src, qh + l);
                    ((FloatVector) a.and(0xF).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32)
                            .convert(VectorOperators.I2F, 0)).mul(s0).intoArray(dst, y + l);
                    ((FloatVector) c.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).mul(s1).intoArray(dst, y + 32 + l);
                    ((FloatVector) a.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).mul(s2).intoArray(dst, y + 64 + l);
                    ((FloatVector) c.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32)
                            .convert(VectorOperators.I2F, 0)).mul(s3).intoArray(dst, y + 96 + l);
                }
            }
        }
    }
}
