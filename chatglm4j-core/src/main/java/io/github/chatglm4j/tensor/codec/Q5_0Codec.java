package io.github.chatglm4j.tensor.codec;

/**
 * Q5_0: 32 weights as a half scale {@code d}, 32 fifth bits (little-endian u32, bit j for weight j) and 16 bytes
 * of low nibbles (as Q4_0), {@code w = d·(q - 16)}. Byte-exact to ggml's reference: {@code d = m / -16} with
 * {@code m} the signed element of largest magnitude, {@code q = min(31, trunc(x·(1/d) + 16.5))}, the product
 * rounded to float before the bias is added (see {@link Q4_0Codec}).
 */
final class Q5_0Codec extends BlockCodec {
    private static final int QK = 32;

    Q5_0Codec() {
        super("Q5_0", 32, 22);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, QK);
        float max = Bits.largestMagnitude(x, xOff, QK);
        float d = max / -16;
        float id = d != 0 ? 1 / d : 0;
        Bits.putShort(out, outOff, Bits.toHalf(d, x, xOff, QK));
        int qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = Math.min(31, (int) (x[xOff + j] * id + 16.5f));
            int q1 = Math.min(31, (int) (x[xOff + j + QK / 2] * id + 16.5f));
            out[outOff + 6 + j] = (byte) ((q0 & 0x0F) | (q1 & 0x0F) << 4);
            qh |= (q0 >> 4) << j | (q1 >> 4) << (j + QK / 2);
        }
        Bits.putInt(out, outOff + 2, qh);
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        int qh = Bits.getInt(in, inOff + 2);
        for (int j = 0; j < QK / 2; j++) {
            int b = in[inOff + 6 + j] & 0xFF;
            int q0 = (b & 0x0F) | ((qh >>> j) & 1) << 4;
            int q1 = (b >> 4) | ((qh >>> (j + QK / 2)) & 1) << 4;
            y[yOff + j] = d * (q0 - 16);
            y[yOff + j + QK / 2] = d * (q1 - 16);
        }
    }
}
