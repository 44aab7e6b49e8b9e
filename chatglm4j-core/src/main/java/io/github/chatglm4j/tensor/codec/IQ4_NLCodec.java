package io.github.chatglm4j.tensor.codec;

/**
 * IQ4_NL: 32 weights as a half scale {@code d} and 16 bytes of 4-bit indices into the non-linear grid of
 * {@link Iq4Grid} (byte j: weight j low, weight j+16 high), {@code w = d·GRID[q]}. The quantizer is llama-quantize's
 * ({@code quantize_iq4_nl} without an importance matrix), byte for byte: the {@link Iq4Grid#scale} search, then every
 * weight's nearest level for that float scale.
 */
final class IQ4_NLCodec extends BlockCodec {

    IQ4_NLCodec() {
        super("IQ4_NL", 32, 18);
    }

    @Override
    void quantizeBlock(float[] x, int xOff, byte[] out, int outOff) {
        Bits.requireSearchable(x, xOff, 32);
        float d = Iq4Grid.scale(x, xOff);
        short dBits = Bits.toHalf(d, x, xOff, 32);
        float id = d != 0 ? 1 / d : 0;
        int[] levels = new int[32];
        for (int j = 0; j < 32; j++) {
            levels[j] = Iq4Grid.nearest(id * x[xOff + j]);
        }
        Bits.putShort(out, outOff, dBits);
        Iq4Grid.pack(levels, 0, out, outOff + 2);
    }

    @Override
    void dequantizeBlock(byte[] in, int inOff, float[] y, int yOff) {
        float d = Bits.half(in, inOff);
        for (int j = 0; j < 16; j++) {
            int b = in[inOff + 2 + j] & 0xFF;
            y[yOff + j] = d * Iq4Grid.GRID[b & 0xF];
            y[yOff + j + 16] = d * Iq4Grid.GRID[b >> 4];
        }
    }
}
