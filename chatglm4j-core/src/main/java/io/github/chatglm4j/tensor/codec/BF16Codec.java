package io.github.chatglm4j.tensor.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** BF16: the top 16 bits of a float, rounded to nearest even (as PyTorch); NaN stays a (quiet) NaN. */
final class BF16Codec extends BlockCodec {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    BF16Codec() {
        super("BF16", 1, 2);
    }

    /** The bfloat16 bits of {@code v}, rounded to nearest even; NaN stays a (quiet) NaN. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    @Override
    void encode(float[] src, int off, int count, MemorySegment dst, long dstOff) {
        for (int i = 0; i < count; i++) {
            dst.set(SHORT_LE, dstOff + 2L * i, toBf16(src[off + i]));
        }
    }

    @Override
    void decode(MemorySegment src, long srcOff, float[] dst, int off, int count) {
        for (int i = 0; i < count; i++) {
            dst[off + i] = fromBf16(src.get(SHORT_LE, srcOff + 2L * i));
        }
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.putShort(out, outOff, toBf16(x[xOff]));
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        y[yOff] = fromBf16((short) ((in[inOff] & 0xFF) | in[inOff + 1] << 8));
    }
}
