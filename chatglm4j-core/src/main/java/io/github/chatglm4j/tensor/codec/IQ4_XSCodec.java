package io.github.chatglm4j.tensor.codec;

/**
 * IQ4_XS: 256 weights as a half {@code d}, eight 6-bit group scales (low nibbles in 4 bytes {@code scales_l}, top two
 * bits in the 16-bit {@code scales_h}) and 8 groups of 32 indices into the grid of {@link Iq4Grid} (laid out as
 * IQ4_NL); {@code w = d·(scale - 32)·GRID[q]}. The quantizer is llama-quantize's ({@code quantize_iq4_xs} without an
 * importance matrix), byte for byte: each group's {@link Iq4Grid#scale}, the scales quantized to 6 bits against the
 * one of largest magnitude ({@code d = max/-32}), and every weight's nearest level for its rounded group scale.
 */
final class IQ4_XSCodec extends BlockCodec {
    private static final int QK = 256;
    private static final int QS = 8;

    IQ4_XSCodec() {
        super("IQ4_XS", 256, 136);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, QK);
        float[] scales = new float[8];
        for (int g = 0; g < 8; g++) {
            scales[g] = Iq4Grid.scale(x, xOff + 32 * g);
        }
        float maxScale = Bits.largestMagnitude(scales, 0, 8);
        float d = -maxScale / 32;
        short dBits = Bits.toHalf(d, x, xOff, QK);
        float id = d != 0 ? 1 / d : 0;
        int[] levels = new int[QK];
        int scalesHigh = 0;
        for (int i = 0; i < 4; i++) {
            out[outOff + 4 + i] = 0;
        }
        for (int g = 0; g < 8; g++) {
            int l = Math.clamp(KQuantFits.nearestInt(id * scales[g]), -32, 31);
            float dl = d * l;
            float idl = dl != 0 ? 1 / dl : 0;
            for (int j = 0; j < 32; j++) {
                levels[32 * g + j] = Iq4Grid.nearest(idl * x[xOff + 32 * g + j]);
            }
            l += 32;
            out[outOff + 4 + g / 2] |= (byte) ((l & 0xF) << (4 * (g % 2)));
            scalesHigh |= (l >> 4) << (2 * g);
        }
        Bits.putShort(out, outOff, dBits);
        Bits.putShort(out, outOff + 2, (short) scalesHigh);
        for (int g = 0; g < 8; g++) {
            Iq4Grid.pack(levels, g, out, outOff + QS + 16 * g);
        }
    }

    /** The 6-bit scale (0..63, to be offset by -32) of group {@code g} of the block at {@code off}. */
    static int scale(byte[] b, int off, int g) {
        int low = (b[off + 4 + g / 2] & 0xFF) >> (4 * (g % 2)) & 0xF;
        int high = ((b[off + 2] & 0xFF) | (b[off + 3] & 0xFF) << 8) >> (2 * g) & 3;
        return low | high << 4;
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        for (int g = 0; g < 8; g++) {
            float dl = d * (scale(in, inOff, g) - 32);
            for (int j = 0; j < 16; j++) {
                int b = in[inOff + QS + 16 * g + j] & 0xFF;
                y[yOff + 32 * g + j] = dl * Iq4Grid.GRID[b & 0xF];
                y[yOff + 32 * g + j + 16] = dl * Iq4Grid.GRID[b >> 4];
            }
        }
    }
}
