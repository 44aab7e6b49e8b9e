package io.github.chatglm4j.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F16: little-endian IEEE half floats, rounded to nearest even (as ggml's FP32_TO_FP16). */
final class F16Codec extends BlockCodec {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F16Codec() {
        super("F16", 1, 2);
    }

    @Override
    void encode(float[] src, int off, int count, MemorySegment dst, long dstOff) {
        for (int i = 0; i < count; i++) {
            dst.set(SHORT_LE, dstOff + 2L * i, Float.floatToFloat16(src[off + i]));
        }
    }

    @Override
    void decode(MemorySegment src, long srcOff, float[] dst, int off, int count) {
        for (int i = 0; i < count; i++) {
            dst[off + i] = Float.float16ToFloat(src.get(SHORT_LE, srcOff + 2L * i));
        }
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.putShort(out, outOff, Float.floatToFloat16(x[xOff]));
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        y[yOff] = Bits.half(in, inOff);
    }
}
