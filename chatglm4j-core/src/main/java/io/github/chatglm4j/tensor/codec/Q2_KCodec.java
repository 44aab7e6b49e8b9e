package io.github.chatglm4j.tensor.codec;

/**
 * Q2_K: 256 weights as 16 scale bytes (per sub-block of 16: a 4-bit scale low, a 4-bit min high), 64 bytes of 2-bit
 * levels, half {@code d} and half {@code dmin} (last); {@code w = d·scale·q - dmin·min}. Weight {@code 128h + 32g + l}
 * ({@code l < 32}) sits in bits {@code 2g, 2g+1} of byte {@code 32h + l}; its sub-block is {@code 8h + 2g + l/16}.
 *
 * <p>The quantizer is ggml's {@code quantize_row_q2_K_ref}, byte for byte: per sub-block an {@link KQuantFits#scaleMin}
 * search on levels 0..3 weighted by {@code |x|} with absolute errors, then scales and mins quantized to 4 bits
 * against the largest of each, and the levels recomputed from the rounded header.
 */
final class Q2_KCodec extends BlockCodec {
    private static final int QK = 256;
    private static final int QS = 16;
    private static final int D = 80;

    Q2_KCodec() {
        super("Q2_K", 256, 84);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, QK);
        int[] q = new int[QK];
        int[] scratch = new int[16];
        float[] weights = new float[16];
        float[] scales = new float[16];
        float[] mins = new float[16];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) {
                weights[l] = Math.abs(x[xOff + 16 * j + l]);
            }
            scales[j] = KQuantFits.scaleMin(16, 3, x, xOff + 16 * j, weights, q, 16 * j, scratch, -0.5f, 0.1f, 15, true, mins, j);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        int[] packed = new int[16];
        short dBits = 0;
        if (maxScale > 0) {
            float iscale = 15f / maxScale;
            for (int j = 0; j < 16; j++) {
                packed[j] = KQuantFits.nearestInt(iscale * scales[j]) & 0xFF; // ggml stores it in a uint8_t
            }
            dBits = Bits.toHalf(maxScale / 15f, x, xOff, QK);
        }
        short dminBits = 0;
        if (maxMin > 0) {
            float iscale = 15f / maxMin;
            for (int j = 0; j < 16; j++) {
                packed[j] = (packed[j] | KQuantFits.nearestInt(iscale * mins[j]) << 4) & 0xFF;
            }
            dminBits = Bits.toHalf(maxMin / 15f, x, xOff, QK);
        }
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        for (int j = 0; j < 16; j++) {
            out[outOff + j] = (byte) packed[j];
            float dl = d * (packed[j] & 0xF);
            if (dl == 0) {
                continue; // the sub-block keeps the levels of its search
            }
            float dm = dmin * (packed[j] >> 4);
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = Math.clamp(KQuantFits.nearestInt((x[xOff + 16 * j + i] + dm) / dl), 0, 3);
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int w = 128 * h + l;
                out[outOff + QS + 32 * h + l] = (byte) (q[w] | q[w + 32] << 2 | q[w + 64] << 4 | q[w + 96] << 6);
            }
        }
        Bits.putShort(out, outOff + D, dBits);
        Bits.putShort(out, outOff + D + 2, dminBits);
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff + D);
        float dmin = Bits.half(in, inOff + D + 2);
        for (int w = 0; w < QK; w++) {
            int sc = in[inOff + w / 16] & 0xFF;
            int q = (in[inOff + QS + 32 * (w / 128) + w % 32] & 0xFF) >> (2 * (w % 128 / 32)) & 3;
            float dl = d * (sc & 0xF);
            float ml = dmin * (sc >> 4);
            y[yOff + w] = dl * q - ml;
        }
    }
}
