package io.github.chatglm4j.model;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The keys (or the values) of one layer of a {@link KvCache}: a row of {@code width} values per position, stored
 * in native memory as {@link KvType} says. Native rather than heap, so that a 128K-token cache of a 6B model
 * (3.5 GiB in F16) does not depend on the Java heap limit.
 *
 * <p>Q8_0 keeps the int8 values in {@code data} and the float32 block scales in {@code scales}, row after row.
 */
record KvPlane(KvType type, int width, MemorySegment data, MemorySegment scales) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int LANES = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** Half to float: after a sign-extending widen and {@code << 13}, keep the sign and the 15 exponent/mantissa bits. */
    private static final int F16_MASK = 0x8FFF_E000;
    /** 2^(127 - 15) moves a half's exponent, now in a float's exponent field, to the float bias (also for subnormals). */
    private static final float F16_SCALE = 0x1p112f;
    /** The largest finite half: larger keys would become infinities, which poison a softmax. */
    private static final float F16_MAX = 65504f;

    static KvPlane allocate(Arena arena, KvType type, int width, int rows) {
        long bytes = switch (type) {
            case F32 -> 4L * width * rows;
            case F16 -> 2L * width * rows;
            case Q8_0 -> (long) width * rows;
        };
        MemorySegment scales = type == KvType.Q8_0
                ? arena.allocate((long) Float.BYTES * KvType.blocks(width) * rows, 64)
                : MemorySegment.NULL;
        return new KvPlane(type, width, arena.allocate(bytes, 64), scales);
    }

    /** Copies the first {@code rows} rows of {@code from}, a plane of the same type and width. */
    void copyRows(KvPlane from, int rows) {
        long dataBytes = switch (type) {
            case F32 -> 4L * width * rows;
            case F16 -> 2L * width * rows;
            case Q8_0 -> (long) width * rows;
        };
        MemorySegment.copy(from.data, 0, data, 0, dataBytes);
        if (type == KvType.Q8_0) {
            MemorySegment.copy(from.scales, 0, scales, 0, (long) Float.BYTES * KvType.blocks(width) * rows);
        }
    }

    /** Encodes {@code src[off, off + width)} as the row of position {@code pos}. */
    void store(int pos, float[] src, int off) {
        long row = (long) pos * width;
        switch (type) {
            case F32 -> MemorySegment.copy(src, off, data, FLOAT, 4 * row, width);
            case F16 -> {
                for (int i = 0; i < width; i++) {
                    float v = Math.clamp(src[off + i], -F16_MAX, F16_MAX);
                    data.set(SHORT, 2 * (row + i), Float.floatToFloat16(v));
                }
            }
            case Q8_0 -> {
                int blocks = KvType.blocks(width);
                for (int b = 0; b < blocks; b++) {
                    int from = b * KvType.Q8_BLOCK;
                    int to = Math.min(width, from + KvType.Q8_BLOCK);
                    float amax = 0;
                    for (int i = from; i < to; i++) {
                        amax = Math.max(amax, Math.abs(src[off + i]));
                    }
                    float d = amax / 127f;
                    float id = d == 0 ? 0 : 1 / d;
                    for (int i = from; i < to; i++) {
                        int q = Math.clamp(Math.round(src[off + i] * id), -127, 127);
                        data.set(ValueLayout.JAVA_BYTE, row + i, (byte) q);
                    }
                    scales.setAtIndex(FLOAT, (long) pos * blocks + b, d);
                }
            }
        }
    }

    /**
     * Decodes columns {@code [col, col + len)} of the {@code count} positions from {@code pos0} into
     * {@code dst[j * len …]} (one head's slice of a tile of positions).
     */
    void decode(int pos0, int count, int col, int len, float[] dst) {
        boolean vector = col % LANES == 0 && len % LANES == 0;
        switch (type) {
            case F32 -> decodeF32(pos0, count, col, len, dst, vector);
            case F16 -> decodeF16(pos0, count, col, len, dst, vector);
            case Q8_0 -> decodeQ8(pos0, count, col, len, dst, vector);
        }
    }

    private void decodeF32(int pos0, int count, int col, int len, float[] dst, boolean vector) {
        for (int j = 0; j < count; j++) {
            long at = 4 * ((long) (pos0 + j) * width + col);
            if (vector) {
                // a bulk copy per position costs more in checks than the 16 vector moves of a 6B head
                for (int i = 0; i < len; i += LANES) {
                    FloatVector.fromMemorySegment(F, data, at + 4L * i, LE).intoArray(dst, j * len + i);
                }
            } else {
                MemorySegment.copy(data, FLOAT, at, dst, j * len, len);
            }
        }
    }

    private void decodeF16(int pos0, int count, int col, int len, float[] dst, boolean vector) {
        for (int j = 0; j < count; j++) {
            long at = 2 * ((long) (pos0 + j) * width + col);
            int o = j * len;
            if (vector) {
                for (int i = 0; i < len; i += LANES) {
                    ((IntVector) ShortVector.fromMemorySegment(ShortVector.SPECIES_128, data, at + 2L * i, LE)
                            .castShape(IntVector.SPECIES_256, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE)
                            .intoArray(dst, o + i);
                }
            } else {
                for (int i = 0; i < len; i++) {
                    dst[o + i] = Float.float16ToFloat(data.get(SHORT, at + 2L * i));
                }
            }
        }
    }

    private void decodeQ8(int pos0, int count, int col, int len, float[] dst, boolean vector) {
        int blocks = KvType.blocks(width);
        for (int j = 0; j < count; j++) {
            long at = (long) (pos0 + j) * width + col;
            long scaleRow = (long) (pos0 + j) * blocks;
            int o = j * len;
            if (vector) {
                // 8 columns starting at a multiple of 8 lie inside one block of 32
                for (int i = 0; i < len; i += LANES) {
                    float d = scales.getAtIndex(FLOAT, scaleRow + (col + i) / KvType.Q8_BLOCK);
                    ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_64, data, at + i, LE)
                            .castShape(F, 0)).mul(d).intoArray(dst, o + i);
                }
            } else {
                for (int i = 0; i < len; i++) {
                    float d = scales.getAtIndex(FLOAT, scaleRow + (col + i) / KvType.Q8_BLOCK);
                    dst[o + i] = data.get(ValueLayout.JAVA_BYTE, at + i) * d;
                }
            }
        }
    }
}
