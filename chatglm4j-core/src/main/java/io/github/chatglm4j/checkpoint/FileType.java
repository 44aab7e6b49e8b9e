package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * llama.cpp's file types ({@code llama_ftype}, GGUF {@code general.file_type}) that chatglm4j writes, and the type
 * each tensor of a ChatGLM3 model gets in them: what {@code llama-quantize} chooses for the {@code chatglm}
 * architecture without an importance matrix (its {@code llama_tensor_get_type}), so that a file converted here, a
 * random benchmark file and a community file of the same name are typed alike.
 *
 * <p>For ChatGLM3 (one fused attn_qkv, no attn_v, no experts) the rules are: 1-D tensors stay F32; the output layer
 * becomes Q6_K (Q8_0 stays Q8_0); attn_qkv, attn_output and ffn_down get more bits in some mixes (below); then a
 * tensor whose rows are not whole blocks of its type falls back as llama.cpp does (Q2_K, Q3_K, IQ4_XS to IQ4_NL, Q4_K
 * to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0): chatglm3-6b's ffn_down rows of 13696 are not whole 256-blocks.
 */
public enum FileType {
    // llama_ftype id, the type of most matrices
    F32(0, TensorType.F32),
    F16(1, TensorType.F16),
    BF16(32, TensorType.BF16),
    Q8_0(7, TensorType.Q8_0),
    Q4_0(2, TensorType.Q4_0),
    Q4_1(3, TensorType.Q4_1),
    Q5_0(8, TensorType.Q5_0),
    Q5_1(9, TensorType.Q5_1),
    /** attn_output and ffn_down in Q3_K. */
    Q2_K(10, TensorType.Q2_K),
    Q3_K_S(11, TensorType.Q3_K),
    /** attn_qkv and attn_output in Q4_K; ffn_down Q5_K in the first sixteenth of the layers, Q4_K after. */
    Q3_K_M(12, TensorType.Q3_K),
    /** attn_qkv Q4_K; attn_output and ffn_down Q5_K. */
    Q3_K_L(13, TensorType.Q3_K),
    /** ffn_down Q5_K in the first eighth of the layers. */
    Q4_K_S(14, TensorType.Q4_K),
    /** attn_qkv Q5_K; ffn_down Q6_K on the layers that get more bits. */
    Q4_K_M(15, TensorType.Q4_K),
    Q5_K_S(16, TensorType.Q5_K),
    /** attn_qkv Q6_K; ffn_down Q6_K on the layers that get more bits. */
    Q5_K_M(17, TensorType.Q5_K),
    Q6_K(18, TensorType.Q6_K),
    /** ffn_down Q5_K in the first eighth of the layers. */
    IQ4_NL(25, TensorType.IQ4_NL),
    /** ffn_down Q5_K in the first eighth of the layers. */
    IQ4_XS(30, TensorType.IQ4_XS);

    private final int id;
    private final TensorType base;

    FileType(int id, TensorType base) {
        this.id = id;
        this.base = base;
    }

    /** The {@code general.file_type} number. */
    public int id() {
        return id;
    }

    /** The type of the matrices the mix does not single out. */
    public TensorType base() {
        return base;
    }

    /** The lower-case name command lines use ({@code q4_k_m}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The file type named {@code name} in any case. */
    public static Optional<FileType> parse(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equalsIgnoreCase(name)).findFirst();
    }

    /** The first file type whose matrices are mostly {@code type} (the _S mix for a K-quant). */
    public static Optional<FileType> mostly(TensorType type) {
        return Arrays.stream(values()).filter(t -> t.base == type).findFirst();
    }

    /**
     * The type {@code llama-quantize} gives tensor {@code name} (a GGUF name, ggml dims {@code ne}) of a model with
     * {@code layers} layers.
     *
     * @throws IllegalArgumentException if llama.cpp has no type for its row length either
     */
    public TensorType typeOf(String name, long[] ne, int layers) {
        if (ne.length == 1 || !base.isQuantized()) {
            return ne.length == 1 ? TensorType.F32 : base;
        }
        TensorType t = chosen(name, ne[0], layers);
        return ne[0] % t.blockSize() == 0 ? t : fallback(name, t, ne[0]);
    }

    /** Every matrix in {@link #base()}, every 1-D tensor in F32 ({@code llama-quantize --pure}). */
    public TensorType pureTypeOf(String name, long[] ne) {
        if (ne.length == 1) {
            return TensorType.F32;
        }
        if (ne[0] % base.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' has rows of " + ne[0] + " values, not a multiple of the "
                    + base + " block size " + base.blockSize() + "; it needs another type");
        }
        return base;
    }

    /** The tensors of a model with this config typed as {@code llama-quantize} types them ({@link #typeOf}). */
    public GgufModelWriter.TypePolicy policy(ChatGLMConfig config) {
        return policy((name, ne) -> typeOf(name, ne, config.numLayers()));
    }

    /** Every matrix in {@link #base()} ({@link #pureTypeOf}). */
    public GgufModelWriter.TypePolicy pure() {
        return policy(this::pureTypeOf);
    }

    private GgufModelWriter.TypePolicy policy(BiFunction<String, long[], TensorType> types) {
        return new GgufModelWriter.TypePolicy() {
            @Override
            public TensorType typeOf(String name, long[] ne) {
                return types.apply(name, ne);
            }

            @Override
            public int fileType() {
                return id;
            }
        };
    }

    /** The type before the row-length fallback. */
    private TensorType chosen(String name, long rowLength, int layers) {
        if (name.equals("output.weight")) {
            if (rowLength % base.blockSize() != 0) {
                return TensorType.Q8_0;
            }
            return base == TensorType.Q8_0 ? base : TensorType.Q6_K;
        }
        if (name.endsWith("attn_qkv.weight")) {
            return switch (this) {
                case Q3_K_M, Q3_K_L -> TensorType.Q4_K;
                case Q4_K_M -> TensorType.Q5_K;
                case Q5_K_M -> TensorType.Q6_K;
                default -> base;
            };
        }
        if (name.endsWith("attn_output.weight")) {
            return switch (this) {
                case Q2_K -> TensorType.Q3_K;
                case Q3_K_M -> TensorType.Q4_K;
                case Q3_K_L -> TensorType.Q5_K;
                default -> base;
            };
        }
        if (name.endsWith("ffn_down.weight")) {
            int layer = layerOf(name);
            return switch (this) {
                case Q2_K -> TensorType.Q3_K;
                case Q3_K_M -> layer < layers / 16 ? TensorType.Q5_K : TensorType.Q4_K;
                case Q3_K_L -> TensorType.Q5_K;
                case Q4_K_M -> moreBits(layer, layers) ? TensorType.Q6_K : base;
                case IQ4_NL, IQ4_XS, Q4_K_S -> layer < layers / 8 ? TensorType.Q5_K : base;
                case Q5_K_M -> moreBits(layer, layers) ? TensorType.Q6_K : base;
                default -> base;
            };
        }
        return base;
    }

    /** llama.cpp's choice of layers that get more bits: the first and last eighth, and every third one between. */
    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /** llama.cpp's substitute for a type whose blocks do not divide the rows, F16 if that does not fit either. */
    private static TensorType fallback(String name, TensorType type, long rowLength) {
        TensorType t = switch (type) {
            case Q2_K, Q3_K, IQ4_XS -> TensorType.IQ4_NL;
            case Q4_K -> TensorType.Q5_0;
            case Q5_K -> TensorType.Q5_1;
            case Q6_K -> TensorType.Q8_0;
            default -> throw new IllegalArgumentException("tensor '" + name + "' has rows of " + rowLength
                    + " values, not a multiple of the " + type + " block size " + type.blockSize());
        };
        return rowLength % t.blockSize() == 0 ? t : TensorType.F16;
    }

    private static int layerOf(String name) {
        return Integer.parseInt(name.split("\\.")[1]);
    }
}
