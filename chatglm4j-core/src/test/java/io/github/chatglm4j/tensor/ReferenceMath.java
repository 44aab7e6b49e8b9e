package io.github.chatglm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Independent oracle for the kernel tests: decodes stored bits from the format definitions with double
 * arithmetic (not via the JDK conversions the kernels use), and builds random weight matrices in native memory.
 */
final class ReferenceMath {

    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ReferenceMath() {
    }

    /** IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; finite values only. */
    static double f16(int bits) {
        int sign = bits >>> 15 & 1;
        int exponent = bits >>> 10 & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            throw new IllegalArgumentException("not finite: " + Integer.toHexString(bits));
        }
        double magnitude = exponent == 0 ? mantissa * 0x1p-24 : (1 + mantissa / 1024.0) * Math.scalb(1.0, exponent - 15);
        return sign == 1 ? -magnitude : magnitude;
    }

    /** bfloat16: 1 sign, 8 exponent (bias 127), 7 mantissa bits; finite values only. */
    static double bf16(int bits) {
        int sign = bits >>> 15 & 1;
        int exponent = bits >>> 7 & 0xFF;
        int mantissa = bits & 0x7F;
        if (exponent == 0xFF) {
            throw new IllegalArgumentException("not finite: " + Integer.toHexString(bits));
        }
        double magnitude = exponent == 0 ? mantissa * 0x1p-133 : (1 + mantissa / 128.0) * Math.scalb(1.0, exponent - 127);
        return sign == 1 ? -magnitude : magnitude;
    }

    static int elementBytes(TensorType type) {
        return type == TensorType.F32 ? 4 : 2;
    }

    /** Element {@code i} of a segment of {@code type}, decoded by the oracle. */
    static double element(MemorySegment data, TensorType type, long i) {
        return switch (type) {
            case F32 -> data.get(FLOAT_LE, 4 * i);
            case F16 -> f16(data.get(SHORT_LE, 2 * i) & 0xFFFF);
            case BF16 -> bf16(data.get(SHORT_LE, 2 * i) & 0xFFFF);
            default -> throw new IllegalArgumentException("float oracle only: " + type);
        };
    }

    /**
     * A segment of {@code count} random values of {@code type}: Gaussian values rounded to the type, with every
     * 17th element replaced by a special value (subnormals, large values, signed zeros) to exercise the decoder.
     */
    static MemorySegment randomTensor(Arena arena, TensorType type, long count, Random random) {
        MemorySegment data = arena.allocate(count * elementBytes(type), 64);
        short[] f16Specials = {0x0001, (short) 0x8001, 0x03FF, (short) 0x83FF, 0x0400, 0x7BFF, (short) 0xFBFF,
                (short) 0x8000, 0x0000, 0x3C00, 0x0200};
        short[] bf16Specials = {0x0001, (short) 0x8001, 0x007F, 0x0080, (short) 0x8000, 0x0000, 0x3F80, 0x4780};
        float[] f32Specials = {-0.0f, Float.MIN_VALUE, -Float.MIN_NORMAL, 1e-40f, 65504f};
        for (long i = 0; i < count; i++) {
            float value = (float) random.nextGaussian();
            boolean special = i % 17 == 5;
            switch (type) {
                case F32 -> data.set(FLOAT_LE, 4 * i, special ? f32Specials[(int) (i / 17 % f32Specials.length)] : value);
                case F16 -> data.set(SHORT_LE, 2 * i,
                        special ? f16Specials[(int) (i / 17 % f16Specials.length)] : Float.floatToFloat16(value));
                case BF16 -> data.set(SHORT_LE, 2 * i,
                        special ? bf16Specials[(int) (i / 17 % bf16Specials.length)] : (short) (Float.floatToRawIntBits(value) >>> 16));
            }
        }
        return data;
    }

    static float[] randomFloats(int count, Random random) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
