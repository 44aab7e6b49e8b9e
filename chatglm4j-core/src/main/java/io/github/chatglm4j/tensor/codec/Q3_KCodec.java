package io.github.chatglm4j.tensor.codec;

/**
 * Q3_K: 256 weights as 32 bytes of high bits, 64 bytes of 2-bit low parts, 12 bytes of sixteen 6-bit scales and a
 * half {@code d} (last); {@code w = d·(scale - 32)·(q - 4)} with {@code q} in 0..7. Weight {@code j = 128h + 32g + l}
 * ({@code l < 32}) takes its low bits from bits {@code 2g, 2g+1} of byte {@code 32 + 32h + l}, its high bit from bit
 * {@code j / 32} of byte {@code j % 32}, and sub-block {@code j / 16}'s scale: low nibble from byte {@code j/16}
 * (low half of the byte for sub-blocks 0-7, high half of byte {@code j/16 - 8} for 8-15), top two bits from bits
 * {@code 2·(s/4)} of byte {@code 8 + s%4} of the scale bytes.
 *
 * <p>The quantizer is ggml's {@code quantize_row_q3_K_ref}, byte for byte: per sub-block of 16 the
 * {@link KQuantFits#q3} fit on levels -4..3, the scales quantized to 6 bits against the one of largest magnitude
 * ({@code d = max/-32}), and the levels recomputed from the rounded scales.
 */
final class Q3_KCodec extends BlockCodec {
    private static final int QK = 256;
    private static final int QS = 32;
    private static final int SCALES = 96;
    private static final int D = 108;

    Q3_KCodec() {
        super("Q3_K", 256, 110);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, QK);
        int[] q = new int[QK];
        float[] scales = new float[16];
        for (int j = 0; j < 16; j++) {
            scales[j] = KQuantFits.q3(16, 4, x, xOff + 16 * j, q, 16 * j);
        }
        float maxScale = Bits.largestMagnitude(scales, 0, 16);
        byte[] packed = new byte[12];
        short dBits = 0;
        if (maxScale != 0) {
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++) {
                int l = Math.clamp((byte) KQuantFits.nearestInt(iscale * scales[j]), -32, 31) + 32; // an int8_t in ggml
                if (j < 8) {
                    packed[j] = (byte) (l & 0xF);
                } else {
                    packed[j - 8] |= (byte) ((l & 0xF) << 4);
                }
                packed[8 + j % 4] |= (byte) ((l >> 4) << (2 * (j / 4)));
            }
            dBits = Bits.toHalf(1 / iscale, x, xOff, QK);
        }
        float d = Float.float16ToFloat(dBits);
        for (int j = 0; j < 16; j++) {
            float dl = d * (scale(packed, 0, j) - 32);
            if (dl == 0) {
                continue; // the sub-block keeps the levels of its fit
            }
            for (int i = 0; i < 16; i++) {
                q[16 * j + i] = Math.clamp(KQuantFits.nearestInt(x[xOff + 16 * j + i] / dl), -4, 3) + 4;
            }
        }
        for (int i = 0; i < 32; i++) {
            out[outOff + i] = 0;
        }
        for (int j = 0; j < QK; j++) {
            if (q[j] > 3) {
                out[outOff + j % 32] |= (byte) (1 << (j / 32));
                q[j] -= 4;
            }
        }
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int w = 128 * h + l;
                out[outOff + QS + 32 * h + l] = (byte) (q[w] | q[w + 32] << 2 | q[w + 64] << 4 | q[w + 96] << 6);
            }
        }
        System.arraycopy(packed, 0, out, outOff + SCALES, 12);
        Bits.putShort(out, outOff + D, dBits);
    }

    /** The 6-bit scale (0..63, to be offset by -32) of sub-block {@code j} from the 12 scale bytes at {@code s}. */
    static int scale(byte[] b, int s, int j) {
        int low = j < 8 ? b[s + j] & 0xF : (b[s + j - 8] & 0xFF) >> 4;
        return low | ((b[s + 8 + j % 4] & 0xFF) >> (2 * (j / 4)) & 3) << 4;
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff + D);
        for (int w = 0; w < QK; w++) {
            float dl = d * (scale(in, inOff + SCALES, w / 16) - 32);
            int low = (in[inOff + QS + 32 * (w / 128) + w % 32] & 0xFF) >> (2 * (w % 128 / 32)) & 3;
            int high = (in[inOff + w % 32] >> (w / 32)) & 1;
            y[yOff + w] = dl * (low - (high != 0 ? 0 : 4));
        }
    }
}
