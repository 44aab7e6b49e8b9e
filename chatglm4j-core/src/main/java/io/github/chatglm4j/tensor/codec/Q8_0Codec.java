package io.github.chatglm4j.tensor.codec;

/**
 * Q8_0: 32 weights as a half scale {@code d} and 32 signed bytes, {@code w = d·q}. Byte-exact to ggml's reference:
 * {@code d = max|x| / 127} in float, {@code q = roundf(x · (1/d))} with the float {@code d}, not the half one.
 */
final class Q8_0Codec extends BlockCodec {
    private static final int QK = 32;

    Q8_0Codec() {
        super("Q8_0", 32, 34);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, QK);
        float d = Bits.maxAbs(x, xOff, QK) / 127;
        float id = d != 0 ? 1 / d : 0;
        Bits.putShort(out, outOff, Bits.toHalf(d, x, xOff, QK));
        for (int j = 0; j < QK; j++) {
            out[outOff + 2 + j] = (byte) Bits.roundHalfAway(x[xOff + j] * id);
        }
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        for (int j = 0; j < QK; j++) {
            y[yOff + j] = in[inOff + 2 + j] * d;
        }
    }
}
