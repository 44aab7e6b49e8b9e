package io.github.chatglm4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.format.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The hyper-parameters of a ChatGLM3 checkpoint, as {@code config.json} states them. The four published variants
 * differ only in {@code seq_length} and {@code rope_ratio}.
 *
 * @param numLayers       transformer blocks (28)
 * @param hiddenSize      model width (4096)
 * @param ffnHiddenSize   width of one SwiGLU half (13696)
 * @param numHeads        query heads (32)
 * @param headDim         {@code kv_channels} (128)
 * @param kvGroups        key/value heads shared by the query heads ({@code multi_query_group_num}, 2)
 * @param vocabSize       rows of the embedding and output matrices ({@code padded_vocab_size}, 65024)
 * @param seqLength       the context length the variant was trained for
 * @param layerNormEps    RMSNorm epsilon
 * @param ropeRatio       multiplier of the rotary base 10000 (1 for 6b and base, 50 for 32k, 500 for 128k)
 */
public record ChatGLMConfig(int numLayers, int hiddenSize, int ffnHiddenSize, int numHeads, int headDim,
                            int kvGroups, int vocabSize, int seqLength, float layerNormEps, float ropeRatio) {

    /** The rotary base: 10000 × rope_ratio. The 32k/128k variants scale the base, not the positions. */
    public double ropeBase() {
        return 10000.0 * ropeRatio;
    }

    /** Width of the fused query/key/value projection: Q for every head, then K and V for every group. */
    public int qkvSize() {
        return (numHeads + 2 * kvGroups) * headDim;
    }

    /** Width of the K (or V) part of one token in one layer. */
    public int kvSize() {
        return kvGroups * headDim;
    }

    /** Reads and validates {@code config.json}; every problem is reported as a one-line error naming the file. */
    public static ChatGLMConfig read(Path configJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(configJson));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(configJson, "file not found");
        } catch (IOException e) {
            throw new ModelFormatException(configJson, "not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(configJson, "expected a JSON object");
        }
        return fromJson(root, configJson);
    }

    static ChatGLMConfig fromJson(JsonNode root, Path file) {
        var r = new FieldReader(root, file);
        String modelType = root.path("model_type").asText("chatglm");
        if (!modelType.equals("chatglm")) {
            throw new ModelFormatException(file, "model_type is '" + modelType + "', expected 'chatglm'");
        }
        // The engine implements exactly the ChatGLM3 block; refuse flags that would change the arithmetic.
        r.requireFlag("rmsnorm", true, true);
        r.requireFlag("add_qkv_bias", true, true);
        r.requireFlag("add_bias_linear", false, false);
        r.requireFlag("apply_residual_connection_post_layernorm", false, false);
        r.requireFlag("post_layer_norm", true, true);
        r.requireFlag("multi_query_attention", true, true);

        int numLayers = r.positiveInt("num_layers");
        int hidden = r.positiveInt("hidden_size");
        int ffn = r.positiveInt("ffn_hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int headDim = root.has("kv_channels") ? r.positiveInt("kv_channels") : hidden / heads;
        int groups = r.positiveInt("multi_query_group_num");
        int vocab = root.has("padded_vocab_size") ? r.positiveInt("padded_vocab_size") : r.positiveInt("vocab_size");
        int seq = r.positiveInt("seq_length");
        double eps = root.path("layernorm_epsilon").asDouble(1e-5);
        double ropeRatio = root.has("rope_ratio") ? root.get("rope_ratio").asDouble() : 1.0;

        if (heads % groups != 0) {
            throw new ModelFormatException(file, "num_attention_heads " + heads + " is not a multiple of multi_query_group_num " + groups);
        }
        if (headDim % 4 != 0) {
            throw new ModelFormatException(file, "kv_channels " + headDim + " must be a multiple of 4 (rotary pairs on half the head)");
        }
        // the derived widths must be ints: a wrapped-around product could otherwise look like a valid shape
        if ((long) (heads + 2L * groups) * headDim > Integer.MAX_VALUE || 2L * ffn > Integer.MAX_VALUE
                || (long) heads * headDim > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "the sizes are too large (num_attention_heads " + heads + ", kv_channels " + headDim
                    + ", ffn_hidden_size " + ffn + ")");
        }
        if (!(eps > 0) || !(ropeRatio > 0)) {
            throw new ModelFormatException(file, "layernorm_epsilon and rope_ratio must be positive");
        }
        return new ChatGLMConfig(numLayers, hidden, ffn, heads, headDim, groups, vocab, seq, (float) eps, (float) ropeRatio);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private record FieldReader(JsonNode root, Path file) {
        int positiveInt(String key) {
            JsonNode n = root.get(key);
            if (n == null) {
                throw new ModelFormatException(file, "missing '" + key + "'");
            }
            if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
                throw new ModelFormatException(file, "'" + key + "' must be a positive integer, got " + n);
            }
            return n.asInt();
        }

        void requireFlag(String key, boolean expected, boolean whenAbsent) {
            JsonNode n = root.get(key);
            boolean value = n == null ? whenAbsent : n.asBoolean(whenAbsent);
            if (value != expected) {
                throw new ModelFormatException(file, "'" + key + "' = " + value + " is not supported (ChatGLM3 uses " + expected + ")");
            }
        }
    }
}
