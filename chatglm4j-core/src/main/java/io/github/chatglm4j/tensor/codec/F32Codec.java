package io.github.chatglm4j.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32: little-endian IEEE single floats, copied as they are. */
final class F32Codec extends BlockCodec {
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Codec() {
        super("F32", 1, 4);
    }

    @Override
    void encode(float[] src, int off, int count, MemorySegment dst, long dstOff) {
        MemorySegment.copy(src, off, dst, FLOAT_LE, dstOff, count);
    }

    @Override
    void decode(MemorySegment src, long srcOff, float[] dst, int off, int count) {
        MemorySegment.copy(src, FLOAT_LE, srcOff, dst, off, count);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.putInt(out, outOff, Float.floatToRawIntBits(x[xOff]));
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        y[yOff] = Float.intBitsToFloat(Bits.getInt(in, inOff));
    }
}
