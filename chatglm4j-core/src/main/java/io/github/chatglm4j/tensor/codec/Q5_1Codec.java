package io.github.chatglm4j.tensor.codec;

/**
 * Q5_1: 32 weights as a half scale {@code d}, a half minimum {@code m}, 32 fifth bits and 16 bytes of low nibbles
 * (as Q5_0), {@code w = d·q + m}. Byte-exact to ggml's reference: {@code d = (max - min) / 31},
 * {@code q = min(31, trunc((x - min)·(1/d) + 0.5))} in float arithmetic with the float {@code d}.
 */
final class Q5_1Codec extends BlockCodec {
    private static final int QK = 32;

    Q5_1Codec() {
        super("Q5_1", 32, 24);
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
        float d = (max - min) / 31;
        float id = d != 0 ? 1 / d : 0;
        Bits.putShort(out, outOff, Bits.toHalf(d, x, xOff, QK));
        Bits.putShort(out, outOff + 2, Bits.toHalf(min, x, xOff, QK));
        int qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = Math.min(31, (int) ((x[xOff + j] - min) * id + 0.5f));
            int q1 = Math.min(31, (int) ((x[xOff + j + QK / 2] - min) * id + 0.5f));
            out[outOff + 8 + j] = (byte) ((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (q0 >> 4) << j | (q1 >> 4) << (j + QK / 2);
        }
        Bits.putInt(out, outOff + 4, qh);
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        float m = Bits.half(in, inOff + 2);
        int qh = Bits.getInt(in, inOff + 4);
        for (int j = 0; j < QK / 2; j++) {
            int b = in[inOff + 8 + j] & 0xFF;
            int q0 = (b & 0x0F) | ((qh >>> j) & 1) << 4;
            int q1 = (b >> 4) | ((qh >>> (j + QK / 2)) & 1) << 4;
            y[yOff + j] = d * q0 + m;
            y[yOff + j + QK / 2] = d * q1 + m;
        }
    }
}
