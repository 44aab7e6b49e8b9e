package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact conversion of stored values (little-endian F32, F16, BF16 here, the block types in {@link QuantDecode}) to
 * float32, both as bulk row decoding through each type's decoder and as the scalar forms that the kernels use for
 * their tails.
 *
 * <p>The vector F16 path widens 8 halves to ints (a narrow 128-bit load plus cast part 0, which is one
 * instruction; casting part 1+ of a wide load needs lane shuffles), moves sign, exponent and mantissa into float
 * position with one shift and one mask, and rescales the exponent bias by multiplying with 2^112. That is exact
 * for normal and subnormal halves and for signed zeros; infinities and NaNs are not expected in weights and come
 * out as large finite values on this path (the scalar path handles them).
 */
final class Decode {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Short> HALVES = ShortVector.SPECIES_128;
    static final VectorSpecies<Integer> INTS = IntVector.SPECIES_256;
    static final int LANES = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /** Keeps the sign (bit 31, from sign extension) and the 15 exponent/mantissa bits after {@code << 13}. */
    static final int F16_MASK = 0x8FFF_E000;
    /** 2^(127 - 15): moves an F16 exponent placed in a float's exponent field to the float bias. */
    static final float F16_SCALE = 0x1p112f;

    private Decode() {
    }

    /**
     * Byte offset of element {@code element} (counted from the start of a tensor); for block types the element
     * must start a block, otherwise an IllegalArgumentException names the misalignment.
     */
    static long byteOffset(TensorType type, long element) {
        if (element % type.blockSize() != 0) {
            throw new IllegalArgumentException("element " + element + " of " + type + " is not at a block boundary (block size "
                    + type.blockSize() + ")");
        }
        return element / type.blockSize() * type.bytesPerBlock();
    }

    static float f16(short bits) {
        return Float.float16ToFloat(bits);
    }

    static float bf16(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /**
     * Decodes {@code len} consecutive values starting at {@code byteOffset} into {@code dst[dstOffset ...]} with the
     * type's decoder. For the block types the offset must be a block boundary and {@code len} a whole number of blocks.
     */
    static void row(TensorType type, MemorySegment src, long byteOffset, float[] dst, int dstOffset, int len) {
        int block = type.blockSize();
        if (len % block != 0) {
            throw new IllegalArgumentException("decoding " + len + " values of " + type + ": not a multiple of the block size " + block);
        }
        if (byteOffset % type.bytesPerBlock() != 0) {
            throw new IllegalArgumentException("decoding " + type + " at byte " + byteOffset + ": not a block boundary ("
                    + type.bytesPerBlock() + "-byte blocks)");
        }
        type.decoder().decode(src, byteOffset, dst, dstOffset, len / block);
    }

    static void f32Row(MemorySegment src, long byteOffset, float[] dst, int dstOffset, int len) {
        MemorySegment.copy(src, FLOAT_LE, byteOffset, dst, dstOffset, len);
    }

    static void f16Row(MemorySegment src, long byteOffset, float[] dst, int dstOffset, int len) {
        int vectorEnd = len - len % LANES;
        int i = 0;
        for (; i < vectorEnd; i += LANES) {
            ((IntVector) ShortVector.fromMemorySegment(HALVES, src, byteOffset + 2L * i, LE).castShape(INTS, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE)
                    .intoArray(dst, dstOffset + i);
        }
        for (; i < len; i++) {
            dst[dstOffset + i] = f16(src.get(SHORT_LE, byteOffset + 2L * i));
        }
    }

    static void bf16Row(MemorySegment src, long byteOffset, float[] dst, int dstOffset, int len) {
        int vectorEnd = len - len % LANES;
        int i = 0;
        for (; i < vectorEnd; i += LANES) {
            ((IntVector) ShortVector.fromMemorySegment(HALVES, src, byteOffset + 2L * i, LE).castShape(INTS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .intoArray(dst, dstOffset + i);
        }
        for (; i < len; i++) {
            dst[dstOffset + i] = bf16(src.get(SHORT_LE, byteOffset + 2L * i));
        }
    }
}
