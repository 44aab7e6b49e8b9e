package io.github.chatglm4j.tensor.codec;

/**
 * Q5_K: 256 weights as the {@link KScaleMin} header, 32 bytes of fifth bits and 128 bytes of low nibbles (laid out
 * as in Q4_K); weight {@code 32j + l} (sub-block j) takes its fifth bit from bit j of byte {@code l}. The quantizer
 * is ggml's {@code quantize_row_q5_K_ref} (levels 0..31, search from -0.5 in 16 steps of 0.1), byte for byte.
 */
final class Q5_KCodec extends BlockCodec {
    private static final int QH = KScaleMin.HEADER;
    private static final int QS = QH + 32;

    Q5_KCodec() {
        super("Q5_K", 256, 176);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        int[] q = new int[KScaleMin.SUPER];
        KScaleMin.fit(x, xOff, 31, -0.5f, 0.1f, 15, q, out, outOff);
        for (int l = 0; l < 32; l++) {
            int h = 0;
            for (int j = 0; j < 8; j++) {
                h |= (q[32 * j + l] >> 4) << j;
            }
            out[outOff + QH + l] = (byte) h;
        }
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                out[outOff + QS + 32 * c + l] = (byte) ((q[64 * c + l] & 0x0F) | (q[64 * c + 32 + l] & 0x0F) << 4);
            }
        }
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        for (int c = 0; c < 4; c++) {
            float d0 = KScaleMin.scale(in, inOff, 2 * c);
            float m0 = KScaleMin.min(in, inOff, 2 * c);
            float d1 = KScaleMin.scale(in, inOff, 2 * c + 1);
            float m1 = KScaleMin.min(in, inOff, 2 * c + 1);
            for (int l = 0; l < 32; l++) {
                int b = in[inOff + QS + 32 * c + l] & 0xFF;
                int h = in[inOff + QH + l] & 0xFF;
                int q0 = (b & 0x0F) | ((h >> (2 * c)) & 1) << 4;
                int q1 = (b >> 4) | ((h >> (2 * c + 1)) & 1) << 4;
                y[yOff + 64 * c + l] = d0 * q0 - m0;
                y[yOff + 64 * c + 32 + l] = d1 * q1 - m1;
            }
        }
    }
}
