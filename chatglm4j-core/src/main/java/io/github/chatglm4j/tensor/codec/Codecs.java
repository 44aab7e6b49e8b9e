package io.github.chatglm4j.tensor.codec;

/**
 * One codec per storage type, the only ones there are: {@code TensorType}'s rows take theirs from here, so the codec
 * classes stay private to this package.
 */
public final class Codecs {
    public static final BlockCodec F32 = new F32Codec();
    public static final BlockCodec F16 = new F16Codec();
    public static final BlockCodec BF16 = new BF16Codec();
    public static final BlockCodec Q8_0 = new Q8_0Codec();
    public static final BlockCodec Q4_0 = new Q4_0Codec();
    public static final BlockCodec Q4_1 = new Q4_1Codec();
    public static final BlockCodec Q5_0 = new Q5_0Codec();
    public static final BlockCodec Q5_1 = new Q5_1Codec();
    public static final BlockCodec Q4_K = new Q4_KCodec();
    public static final BlockCodec Q5_K = new Q5_KCodec();
    public static final BlockCodec Q6_K = new Q6_KCodec();
    public static final BlockCodec Q2_K = new Q2_KCodec();
    public static final BlockCodec Q3_K = new Q3_KCodec();
    public static final BlockCodec IQ4_NL = new IQ4_NLCodec();
    public static final BlockCodec IQ4_XS = new IQ4_XSCodec();

    /** The bfloat16 bits of {@code v}, rounded to nearest even as PyTorch does; NaN stays a (quiet) NaN. */
    public static short toBf16(float v) {
        return BF16Codec.toBf16(v);
    }

    private Codecs() {
    }
}
