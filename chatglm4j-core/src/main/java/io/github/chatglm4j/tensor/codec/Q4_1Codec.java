package io.github.chatglm4j.tensor.codec;

/**
 * Q4_1: 32 weights as a half scale {@code d}, a half minimum {@code m} and 16 bytes of nibbles (as Q4_0),
 * {@code w = d·q + m}. Byte-exact to ggml's reference: {@code d = (max - min) / 15},
 * {@code q = min(15, trunc((x - min)·(1/d) + 0.5))} in float arithmetic with the float {@code d}.
 */
final class Q4_1Codec extends BlockCodec {
    private static final int QK = 32;

    Q4_1Codec() {
        super("Q4_1", 32, 20);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, QK);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < QK; j++) {
            float v = x[xOff + j];
            if (v < min) { // as the reference compares: the first of -0.0 and 0.0 wins, unlike Math.min
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        float d = (max - min) / 15;
        float id = d != 0 ? 1 / d : 0;
        Bits.putShort(out, outOff, Bits.toHalf(d, x, xOff, QK));
        Bits.putShort(out, outOff + 2, Bits.toHalf(min, x, xOff, QK));
        for (int j = 0; j < QK / 2; j++) {
            int q0 = Math.min(15, (int) ((x[xOff + j] - min) * id + 0.5f));
            int q1 = Math.min(15, (int) ((x[xOff + j + QK / 2] - min) * id + 0.5f));
            out[outOff + 4 + j] = (byte) (q0 | q1 << 4);
        }
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        float m = Bits.half(in, inOff + 2);
        for (int j = 0; j < QK / 2; j++) {
            int b = in[inOff + 4 + j] & 0xFF;
            y[yOff + j] = d * (b & 0x0F) + m;
            y[yOff + j + QK / 2] = d * (b >> 4) + m;
        }
    }
}
