package io.github.chatglm4j.tensor.codec;

/**
 * Q4_0: 32 weights as a half scale {@code d} and 16 bytes of nibbles (byte j: weight j low, weight j+16 high),
 * {@code w = d·(q - 8)}. Byte-exact to ggml's reference: {@code d = m / -8} where {@code m} is the first element of
 * largest magnitude with its sign, {@code q = min(15, trunc(x·(1/d) + 8.5))} with the float {@code d}. The product
 * is rounded to float before the bias is added, as llama.cpp's compiled quantizer does (ggml-base is built without
 * FMA; gguf-py's float64 port rounds once and differs in rare near-integer cases).
 */
final class Q4_0Codec extends BlockCodec {
    private static final int QK = 32;

    Q4_0Codec() {
        super("Q4_0", 32, 18);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireFinite(x, xOff, QK);
        float max = Bits.largestMagnitude(x, xOff, QK);
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        Bits.putShort(out, outOff, Bits.toHalf(d, x, xOff, QK));
        for (int j = 0; j < QK / 2; j++) {
            int q0 = nibble(x[xOff + j], id);
            int q1 = nibble(x[xOff + j + QK / 2], id);
            out[outOff + 2 + j] = (byte) (q0 | q1 << 4);
        }
    }

    private static int nibble(float x, float id) {
        return Math.min(15, (int) (x * id + 8.5f));
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        for (int j = 0; j < QK / 2; j++) {
            int b = in[inOff + 2 + j] & 0xFF;
            y[yOff + j] = d * ((b & 0x0F) - 8);
            y[yOff + j + QK / 2] = d * ((b >> 4) - 8);
        }
    }
}
