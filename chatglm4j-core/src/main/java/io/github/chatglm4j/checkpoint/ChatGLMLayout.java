package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.model.ChatGLMConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** llama.cpp's names for the ChatGLM3 tensors and their Hugging Face counterparts. */
final class ChatGLMLayout {
    static final String ARCH = "chatglm";
    private static final String HF = "transformer.";
    private static final String HF_LAYER = HF + "encoder.layers.";
    private static final Pattern GGUF_BLOCK = Pattern.compile("blk\\.(0|[1-9][0-9]{0,8})\\.(.+)");
    private static final Pattern HF_BLOCK = Pattern.compile(Pattern.quote(HF_LAYER) + "(0|[1-9][0-9]{0,8})\\.(.+)");

    /** GGUF suffix within a block, HF suffix within a layer. */
    private static final String[][] BLOCK = {
            {"attn_norm.weight", "input_layernorm.weight"},
            {"attn_qkv.weight", "self_attention.query_key_value.weight"},
            {"attn_qkv.bias", "self_attention.query_key_value.bias"},
            {"attn_output.weight", "self_attention.dense.weight"},
            {"ffn_norm.weight", "post_attention_layernorm.weight"},
            {"ffn_up.weight", "mlp.dense_h_to_4h.weight"},
            {"ffn_down.weight", "mlp.dense_4h_to_h.weight"},
    };
    private static final String[][] GLOBAL = {
            {"token_embd.weight", HF + "embedding.word_embeddings.weight"},
            {"output_norm.weight", HF + "encoder.final_layernorm.weight"},
            {"output.weight", HF + "output_layer.weight"},
    };

    /** One tensor of the model: both names and the ggml dimensions (row length first). */
    record Entry(String gguf, String hf, long[] ne) {
    }

    private ChatGLMLayout() {
    }

    /** The Hugging Face name of a GGUF tensor, or null if the model does not use it. */
    static String hfName(String gguf) {
        for (String[] g : GLOBAL) {
            if (g[0].equals(gguf)) {
                return g[1];
            }
        }
        Matcher m = GGUF_BLOCK.matcher(gguf);
        if (m.matches()) {
            for (String[] b : BLOCK) {
                if (b[0].equals(m.group(2))) {
                    return HF_LAYER + m.group(1) + "." + b[1];
                }
            }
        }
        return null;
    }

    /** The GGUF name of a Hugging Face tensor, or null if llama.cpp has none for it. */
    static String ggufName(String hf) {
        for (String[] g : GLOBAL) {
            if (g[1].equals(hf)) {
                return g[0];
            }
        }
        Matcher m = HF_BLOCK.matcher(hf);
        if (m.matches()) {
            for (String[] b : BLOCK) {
                if (b[1].equals(m.group(2))) {
                    return "blk." + m.group(1) + "." + b[0];
                }
            }
        }
        return null;
    }

    /** Every tensor a ChatGLM3 GGUF holds, in the order written here. */
    static List<Entry> entries(ChatGLMConfig c) {
        long hidden = c.hiddenSize();
        var out = new ArrayList<Entry>();
        out.add(entry("token_embd.weight", hidden, c.vocabSize()));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "blk." + l + ".";
            out.add(entry(p + "attn_norm.weight", hidden));
            out.add(entry(p + "attn_qkv.weight", hidden, c.qkvSize()));
            out.add(entry(p + "attn_qkv.bias", c.qkvSize()));
            out.add(entry(p + "attn_output.weight", (long) c.numHeads() * c.headDim(), hidden));
            out.add(entry(p + "ffn_norm.weight", hidden));
            out.add(entry(p + "ffn_up.weight", hidden, 2L * c.ffnHiddenSize()));
            out.add(entry(p + "ffn_down.weight", c.ffnHiddenSize(), hidden));
        }
        out.add(entry("output_norm.weight", hidden));
        out.add(entry("output.weight", hidden, c.vocabSize()));
        return out;
    }

    private static Entry entry(String gguf, long... ne) {
        return new Entry(gguf, hfName(gguf), ne);
    }

    /** The shape outermost first (PyTorch order) of ggml dimensions. */
    static long[] reversed(long[] ne) {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }
}
