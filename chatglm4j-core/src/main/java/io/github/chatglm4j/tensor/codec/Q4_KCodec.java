package io.github.chatglm4j.tensor.codec;

/**
 * Q4_K: 256 weights as the {@link KScaleMin} header and 128 bytes of nibbles; bytes {@code 32c..32c+31} hold
 * weights {@code 64c..64c+31} in their low and {@code 64c+32..64c+63} in their high nibbles. The quantizer is ggml's
 * {@code quantize_row_q4_K_ref} (levels 0..15, search from -1 in 21 steps of 0.1), byte for byte.
 */
final class Q4_KCodec extends BlockCodec {
    private static final int QS = KScaleMin.HEADER;

    Q4_KCodec() {
        super("Q4_K", 256, 144);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        int[] q = new int[KScaleMin.SUPER];
        KScaleMin.fit(x, xOff, 15, -1f, 0.1f, 20, q, out, outOff);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                out[outOff + QS + 32 * c + l] = (byte) (q[64 * c + l] | q[64 * c + 32 + l] << 4);
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
                y[yOff + 64 * c + l] = d0 * (b & 0x0F) - m0;
                y[yOff + 64 * c + 32 + l] = d1 * (b >> 4) - m1;
            }
        }
    }
}
