package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.format.gguf.Quote;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A ChatGLM3 model in one GGUF file as llama.cpp's converter writes it (architecture {@code chatglm}): the config
 * from the {@code chatglm.*} keys, the tokenizer from the {@code tokenizer.ggml.*} vocabulary, and the tensors under
 * the Hugging Face names and shapes the model binder uses (GGUF dimensions reversed), still in their stored type
 * inside the file mapping.
 */
public final class GgufCheckpoint implements TensorSource {
    private static final String KEY = ChatGLMLayout.ARCH + ".";

    private final GgufFile file;
    private final ChatGLMConfig config;
    private final ChatGLMTokenizer tokenizer;
    private final Map<String, TensorEntry> tensors;

    private GgufCheckpoint(GgufFile file, ChatGLMConfig config, ChatGLMTokenizer tokenizer, Map<String, TensorEntry> tensors) {
        this.file = file;
        this.config = config;
        this.tokenizer = tokenizer;
        this.tensors = tensors;
    }

    /** Maps the file and checks that it holds a complete ChatGLM3 model. */
    public static GgufCheckpoint open(Path path, LoadProgress progress) {
        long size = sizeOf(path);
        progress.update("mapping", 0, size);
        GgufFile f = GgufFile.open(path);
        try {
            String arch = f.architecture();
            if (!arch.equals(ChatGLMLayout.ARCH)) {
                throw fail(f, "general.architecture is " + Quote.of(arch) + ", expected '" + ChatGLMLayout.ARCH + "' (ChatGLM3)");
            }
            ChatGLMConfig config = config(f);
            checkTensors(f, config);
            ChatGLMTokenizer tokenizer = tokenizer(f, config);
            var entries = new LinkedHashMap<String, TensorEntry>();
            for (GgufTensor t : f.tensors()) {
                String hf = ChatGLMLayout.hfName(t.name());
                String name = hf != null ? hf : t.name();
                entries.put(name, new TensorEntry(name, t.type(), t.shape(), t.data(), path));
            }
            progress.update("mapping", size, size);
            return new GgufCheckpoint(f, config, tokenizer, Collections.unmodifiableMap(entries));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The hyper-parameters stated by the {@code chatglm.*} keys and the embedding's shape. */
    public ChatGLMConfig config() {
        return config;
    }

    /** The tokenizer built from the file's vocabulary. */
    public ChatGLMTokenizer tokenizer() {
        return tokenizer;
    }

    /** The underlying file, for its metadata. */
    public GgufFile file() {
        return file;
    }

    @Override
    public Optional<TensorEntry> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public List<TensorEntry> tensors() {
        return new ArrayList<>(tensors.values());
    }

    @Override
    public Path location() {
        return file.path();
    }

    @Override
    public String description() {
        return "GGUF v" + file.version() + " file " + file.path();
    }

    @Override
    public void close() {
        file.close();
    }

    static ChatGLMConfig config(GgufFile f) {
        int layers = positive(f, KEY + "block_count");
        int hidden = positive(f, KEY + "embedding_length");
        int ffn = positive(f, KEY + "feed_forward_length");
        int heads = positive(f, KEY + "attention.head_count");
        int groups = f.value(KEY + "attention.head_count_kv").isPresent() ? positive(f, KEY + "attention.head_count_kv") : heads;
        int context = positive(f, KEY + "context_length");
        double eps = f.real(KEY + "attention.layer_norm_rms_epsilon")
                .orElseThrow(() -> fail(f, "missing " + KEY + "attention.layer_norm_rms_epsilon"));
        double base = f.real(KEY + "rope.freq_base").orElse(10000.0);

        if (hidden % heads != 0) {
            throw fail(f, KEY + "embedding_length " + hidden + " is not a multiple of the head count " + heads);
        }
        int headDim = hidden / heads;
        Optional<Long> keyLength = f.uint(KEY + "attention.key_length");
        if (keyLength.isPresent() && keyLength.get() != headDim) {
            throw fail(f, KEY + "attention.key_length " + keyLength.get() + " differs from embedding_length / head_count = "
                    + headDim + "; ChatGLM3 uses the same");
        }
        long rotary = f.uint(KEY + "rope.dimension_count").orElse((long) headDim);
        if (rotary != headDim / 2) {
            throw fail(f, KEY + "rope.dimension_count is " + rotary
                    + (f.value(KEY + "rope.dimension_count").isEmpty() ? " (absent: the whole head)" : "")
                    + ", but ChatGLM3 rotates half of each " + headDim + "-wide head (" + headDim / 2 + ")");
        }
        if (heads % groups != 0) {
            throw fail(f, KEY + "attention.head_count " + heads + " is not a multiple of head_count_kv " + groups);
        }
        if (headDim % 4 != 0) {
            throw fail(f, "head size " + headDim + " must be a multiple of 4 (rotary pairs on half the head)");
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw fail(f, KEY + "attention.layer_norm_rms_epsilon must be positive, got " + eps);
        }
        if (!(base > 0) || Double.isInfinite(base)) {
            throw fail(f, KEY + "rope.freq_base must be positive, got " + base);
        }
        if (layers > f.tensors().size() / 7) {
            throw fail(f, KEY + "block_count is " + layers + ", but the file has only " + f.tensors().size() + " tensors");
        }
        GgufTensor embedding = f.tensor("token_embd.weight").orElseThrow(() -> fail(f, "tensor 'token_embd.weight' is missing"));
        long[] ne = embedding.ne();
        if (ne.length != 2 || ne[0] != hidden || ne[1] < 1 || ne[1] > Integer.MAX_VALUE) {
            throw fail(f, "tensor 'token_embd.weight' has ne " + Arrays.toString(ne) + ", expected [" + hidden + ", vocabulary size]");
        }
        return new ChatGLMConfig(layers, hidden, ffn, heads, headDim, groups, (int) ne[1], context, (float) eps, (float) (base / 10000.0));
    }

    private static void checkTensors(GgufFile f, ChatGLMConfig config) {
        for (GgufTensor t : f.tensors()) {
            if (t.name().matches("blk\\.\\d+\\.attn_[qkv]\\.(weight|bias)")
                    && f.tensor(t.name().replaceFirst("attn_[qkv]\\.", "attn_qkv.")).isEmpty()) {
                throw fail(f, "tensor " + Quote.of(t.name()) + ": separate attn_q/attn_k/attn_v tensors (a GLM-4 style conversion) are not"
                        + " supported; ChatGLM3 files have the fused attn_qkv");
            }
        }
        for (ChatGLMLayout.Entry e : ChatGLMLayout.entries(config)) {
            GgufTensor t = f.tensor(e.gguf()).orElseThrow(() -> fail(f, "tensor '" + e.gguf() + "' is missing"));
            if (!Arrays.equals(t.ne(), e.ne())) {
                throw fail(f, "tensor '" + e.gguf() + "' has ne " + Arrays.toString(t.ne()) + ", the config requires "
                        + Arrays.toString(e.ne()));
            }
            if (e.ne().length == 1 && t.type().isQuantized()) {
                throw fail(f, "tensor '" + e.gguf() + "' is " + t.type() + "; norms and biases must be F32, F16 or BF16");
            }
        }
    }

    private static ChatGLMTokenizer tokenizer(GgufFile f, ChatGLMConfig config) {
        String model = f.string("tokenizer.ggml.model")
                .orElseThrow(() -> fail(f, "has no tokenizer.ggml.model: the file carries no vocabulary"));
        if (!model.equals("llama")) {
            throw fail(f, "tokenizer.ggml.model is " + Quote.of(model) + "; ChatGLM3 files use the SentencePiece vocabulary 'llama'");
        }
        long count = f.array("tokenizer.ggml.tokens").orElseThrow(() -> fail(f, "missing tokenizer.ggml.tokens")).size();
        if (count > config.vocabSize()) {
            throw fail(f, "tokenizer.ggml.tokens has " + count + " entries, more than the " + config.vocabSize() + " embedding rows");
        }
        List<String> tokens = f.strings("tokenizer.ggml.tokens").orElseThrow();
        float[] scores = f.floats("tokenizer.ggml.scores").orElseThrow(() -> fail(f, "missing tokenizer.ggml.scores"));
        int[] types = f.ints("tokenizer.ggml.token_type").orElseThrow(() -> fail(f, "missing tokenizer.ggml.token_type"));
        try {
            return new GgufVocabulary(tokens, scores, types).tokenizer();
        } catch (IllegalArgumentException e) {
            throw fail(f, "tokenizer.ggml.* is not the ChatGLM3 vocabulary: " + e.getMessage());
        }
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            return 0; // GgufFile.open reports the problem
        }
    }

    private static int positive(GgufFile f, String key) {
        long v = f.uint(key).orElseThrow(() -> fail(f, "missing " + key));
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw fail(f, key + " is " + v + ", expected a positive 32-bit integer");
        }
        return (int) v;
    }

    private static ModelFormatException fail(GgufFile f, String problem) {
        return new ModelFormatException(f.path(), Quote.oneLine(problem));
    }
}
