package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32, F16 and BF16 storage of floats. */
final class FloatRowEncoder implements RowEncoder {
    static final FloatRowEncoder INSTANCE = new FloatRowEncoder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FloatRowEncoder() {
    }

    @Override
    public void encode(TensorType type, float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOffset, dst, FLOAT, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(SHORT, dstOffset + 2L * i, Float.floatToFloat16(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(SHORT, dstOffset + 2L * i, bf16(src[srcOffset + i]));
                }
            }
            default -> throw new UnsupportedOperationException(type + " is a quantized type; the float encoder writes only "
                    + "F32, F16 and BF16 (a quantizing RowEncoder is needed)");
        }
    }

    /** Rounds to the nearest bfloat16, ties to even; NaN stays a (quiet) NaN. */
    static short bf16(float v) {
        if (Float.isNaN(v)) {
            return (short) 0x7FC0;
        }
        int bits = Float.floatToRawIntBits(v);
        int tieToEven = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + tieToEven) >>> 16);
    }
}
