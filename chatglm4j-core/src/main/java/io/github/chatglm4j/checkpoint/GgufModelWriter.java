package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.tensor.quant.Quantization;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.gguf.GgufArray;
import io.github.chatglm4j.format.gguf.GgufValue;
import io.github.chatglm4j.format.gguf.GgufWriter;
import io.github.chatglm4j.format.gguf.RowEncoder;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMWeights;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.Vectors;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.LongStream;

/**
 * Writes ChatGLM3 models as GGUF files that llama.cpp loads: the keys, value types, vocabulary and tensor names of
 * llama.cpp's own Hugging Face converter (architecture {@code chatglm}). Matrices get the requested type; norms
 * and the qkv bias stay F32, as there.
 */
public final class GgufModelWriter {
    /**
     * A chat template for files whose Hugging Face tokenizer_config has none (chatglm3-6b): the prompt layout of
     * {@code build_chat_input}, which llama.cpp recognizes as "chatglm3" by its {@code [gMASK]sop}. The space after
     * each role's newline stands for the {@code ▁} that the reference tokenizer puts before the content.
     */
    public static final String CHAT_TEMPLATE = "[gMASK]sop{% for message in messages %}<|{{ message['role'] }}|>\n"
            + " {{ message['content'] }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

    /** {@code general.quantization_version} as ggml defines it today. */
    private static final int QUANTIZATION_VERSION = 2;

    /** One tensor of the file: its GGUF name, the Hugging Face name it comes from, stored type and ggml dims. */
    public record PlannedTensor(String name, String hfName, TensorType type, long[] ne) {
        public PlannedTensor {
            ne = ne.clone();
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }

        /** Outermost dimension first, as PyTorch writes it. */
        public long[] shape() {
            return ChatGLMLayout.reversed(ne);
        }

        public long byteSize() {
            return spec().byteSize();
        }

        GgufWriter.TensorSpec spec() {
            return new GgufWriter.TensorSpec(name, type, ne);
        }
    }

    /** Which type each tensor is stored in, and the matching {@code general.file_type} (llama.cpp's llama_ftype). */
    public interface TypePolicy {
        TensorType typeOf(String name, long[] ne);

        int fileType();

        /** Every matrix in {@code matrixType}, every 1-D tensor in F32 (llama.cpp's "--outtype", llama-quantize's --pure). */
        static TypePolicy uniform(TensorType matrixType) {
            return FileType.mostly(matrixType).orElseThrow().pure();
        }
    }

    /** Fills one tensor's bytes in its planned type. May be called from any thread, once per tensor. */
    @FunctionalInterface
    public interface TensorFill {
        void fill(PlannedTensor tensor, MemorySegment dst) throws IOException;
    }

    private GgufModelWriter() {
    }

    /**
     * Converts a Hugging Face ChatGLM3 directory (config.json, tokenizer.model, safetensors or PyTorch weights,
     * optional tokenizer_config.json with a chat template) into one GGUF file.
     *
     * @param type      the type of the matrices (the norms and bias stay F32)
     * @param encoder   turns float rows into {@code type}; {@link RowEncoder#floats()} for F32/F16/BF16
     * @param progress  receives bytes written ("writing")
     * @param overwrite replace {@code out} if it exists
     * @throws ModelFormatException if the directory does not hold a usable model
     * @throws UnsupportedOperationException if {@code encoder} cannot produce {@code type} (before anything is written)
     */
    public static void convert(Path hfDir, Path out, TensorType type, RowEncoder encoder, LoadProgress progress, boolean overwrite) throws IOException {
        convert(hfDir, out, c -> TypePolicy.uniform(type), encoder, progress, overwrite);
    }

    /**
     * Converts with the project's quantizers (byte for byte llama.cpp's, see {@link Quantization}) and the tensor
     * types {@code types} chooses for the checkpoint's config (e.g. {@link FileType#policy}).
     */
    public static void convert(Path hfDir, Path out, Function<ChatGLMConfig, TypePolicy> types, LoadProgress progress,
                               boolean overwrite) throws IOException {
        convert(hfDir, out, types, Quantization::quantizeRow, progress, overwrite);
    }

    /**
     * {@link #convert(Path, Path, TensorType, RowEncoder, LoadProgress, boolean)} with the tensor types chosen by
     * {@code types} for the checkpoint's config (e.g. {@link FileType#policy}: typed as llama-quantize does).
     */
    public static void convert(Path hfDir, Path out, Function<ChatGLMConfig, TypePolicy> types, RowEncoder encoder,
                               LoadProgress progress, boolean overwrite) throws IOException {
        ChatGLMConfig config = ChatGLMConfig.read(hfDir.resolve("config.json"));
        if ((long) config.numHeads() * config.headDim() != config.hiddenSize()) {
            throw new ModelFormatException(hfDir.resolve("config.json"), "kv_channels " + config.headDim() + " x "
                    + config.numHeads() + " heads differs from hidden_size " + config.hiddenSize() + "; llama.cpp derives the head size from them");
        }
        ChatGLMTokenizer tokenizer = ChatGLMTokenizer.load(hfDir.resolve("tokenizer.model"));
        Path name = hfDir.toAbsolutePath().normalize().getFileName();
        try (HuggingFaceCheckpoint source = HuggingFaceCheckpoint.open(hfDir, LoadProgress.NONE)) {
            // every tensor present with the shape the config requires, before anything is sized from the config
            ChatGLMWeights.bind(config, source);
            TypePolicy policy = types.apply(config);
            List<PlannedTensor> plan = plan(config, policy);
            for (TensorType type : plan.stream().map(PlannedTensor::type).distinct().toList()) {
                probe(encoder, type); // before anything is written
            }
            GgufVocabulary vocabulary;
            try {
                vocabulary = GgufVocabulary.of(tokenizer, config.vocabSize());
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(hfDir.resolve("config.json"), e.getMessage());
            }
            var metadata = metadata(config, vocabulary, name == null ? "chatglm3" : name.toString(), policy.fileType(), chatTemplate(hfDir));
            var tracker = new Tracker(progress);
            write(out, metadata, plan, (t, dst) -> {
                TensorEntry src = source.tensor(t.hfName()).orElseThrow();
                encodeTensor(src, t, encoder, dst, tracker);
            }, tracker, overwrite);
        }
    }

    /**
     * Writes a ChatGLM3 GGUF whose tensor bytes come from {@code fill} (random weights for benchmarks, for example),
     * with the same metadata as {@link #convert} and {@link #CHAT_TEMPLATE}.
     *
     * @param vocabulary one entry per embedding row, e.g. {@link GgufVocabulary#of}
     * @param name       {@code general.name}
     */
    static void write(Path out, ChatGLMConfig config, GgufVocabulary vocabulary, String name, TypePolicy types,
                             TensorFill fill, LoadProgress progress, boolean overwrite) throws IOException {
        var metadata = metadata(config, vocabulary, name, types.fileType(), CHAT_TEMPLATE);
        write(out, metadata, plan(config, types), fill, new Tracker(progress), overwrite);
    }

    /** The tensors of a model with this config, in file order, typed by {@code types}. */
    public static List<PlannedTensor> plan(ChatGLMConfig config, TypePolicy types) {
        var out = new ArrayList<PlannedTensor>();
        for (ChatGLMLayout.Entry e : ChatGLMLayout.entries(config)) {
            out.add(new PlannedTensor(e.gguf(), e.hf(), types.typeOf(e.gguf(), e.ne()), e.ne()));
        }
        return out;
    }

    /** The metadata llama.cpp's converter writes for ChatGLM3, in its order. */
    static Map<String, GgufValue> metadata(ChatGLMConfig c, GgufVocabulary vocabulary, String name, int fileType, String chatTemplate) {
        if (vocabulary.size() != c.vocabSize()) {
            throw new IllegalArgumentException("the vocabulary has " + vocabulary.size() + " entries but the embedding has "
                    + c.vocabSize() + " rows (llama.cpp requires one entry per row)");
        }
        String a = ChatGLMLayout.ARCH + ".";
        var m = new LinkedHashMap<String, GgufValue>();
        m.put("general.architecture", GgufValue.string(ChatGLMLayout.ARCH));
        m.put("general.type", GgufValue.string("model"));
        m.put("general.name", GgufValue.string(name));
        m.put(a + "context_length", GgufValue.u32(c.seqLength()));
        m.put(a + "embedding_length", GgufValue.u32(c.hiddenSize()));
        m.put(a + "feed_forward_length", GgufValue.u32(c.ffnHiddenSize()));
        m.put(a + "block_count", GgufValue.u32(c.numLayers()));
        m.put(a + "attention.head_count", GgufValue.u32(c.numHeads()));
        m.put(a + "attention.head_count_kv", GgufValue.u32(c.kvGroups()));
        m.put(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(c.layerNormEps()));
        m.put("general.file_type", GgufValue.u32(fileType));
        m.put(a + "rope.dimension_count", GgufValue.u32(c.headDim() / 2));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        m.put(a + "rope.freq_base", GgufValue.f32((float) c.ropeBase()));
        m.put("general.quantization_version", GgufValue.u32(QUANTIZATION_VERSION));
        m.put("tokenizer.ggml.model", GgufValue.string("llama"));
        m.put("tokenizer.ggml.pre", GgufValue.string("chatglm-spm"));
        m.put("tokenizer.ggml.tokens", GgufArray.ofStrings(vocabulary.tokens()));
        m.put("tokenizer.ggml.scores", GgufArray.ofFloats(vocabulary.scores()));
        m.put("tokenizer.ggml.token_type", GgufArray.ofInts(vocabulary.types()));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.u32(ChatGLMTokenizer.EOS));
        m.put("tokenizer.ggml.padding_token_id", GgufValue.u32(ChatGLMTokenizer.PAD));
        if (chatTemplate != null) {
            m.put("tokenizer.chat_template", GgufValue.string(chatTemplate));
        }
        return m;
    }

    /** llama.cpp's llama_ftype for a file whose matrices are all {@code type} ("mostly" that type; the _S mix of a K-quant). */
    public static int fileType(TensorType type) {
        return FileType.mostly(type).orElseThrow().id();
    }

    private static void write(Path out, Map<String, GgufValue> metadata, List<PlannedTensor> plan, TensorFill fill,
                              Tracker tracker, boolean overwrite) throws IOException {
        var specs = plan.stream().map(PlannedTensor::spec).toList();
        try (GgufWriter w = GgufWriter.create(out, metadata, specs, overwrite)) {
            tracker.start(plan.stream().mapToLong(PlannedTensor::byteSize).sum());
            for (PlannedTensor t : plan) {
                long before = tracker.done();
                fill.fill(t, w.tensor(t.name()));
                tracker.set(before + t.byteSize());
            }
            w.finish();
        }
    }

    /** Decodes the source rows to floats and re-encodes them, several row batches in parallel. */
    private static void encodeTensor(TensorEntry src, PlannedTensor t, RowEncoder encoder, MemorySegment dst, Tracker tracker) {
        long[] ne = t.ne();
        int cols = (int) ne[0];
        long rows = 1;
        for (int i = 1; i < ne.length; i++) {
            rows *= ne[i];
        }
        long srcRowBytes = src.type().byteSize(cols);
        long dstRowBytes = t.type().byteSize(cols);
        long batch = Math.max(1, (1 << 20) / cols);
        long batches = (rows + batch - 1) / batch;
        long total = rows;
        LongStream.range(0, batches).parallel().forEach(b -> {
            long r0 = b * batch;
            long r1 = Math.min(total, r0 + batch);
            for (long r = r0; r < r1; r++) {
                float[] row = Vectors.toFloatArray(src.data().asSlice(r * srcRowBytes, srcRowBytes), src.type(), cols);
                encoder.encode(t.type(), row, 0, cols, dst, r * dstRowBytes);
            }
            tracker.advance((r1 - r0) * dstRowBytes);
        });
    }

    /** Fails before any file is created if the encoder cannot produce {@code type}. */
    private static void probe(RowEncoder encoder, TensorType type) {
        try (Arena arena = Arena.ofConfined()) {
            int n = type.blockSize();
            encoder.encode(type, new float[n], 0, n, arena.allocate(type.byteSize(n)), 0);
        }
    }

    private static String chatTemplate(Path hfDir) {
        Path config = hfDir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            try {
                JsonNode t = new ObjectMapper().readTree(config.toFile()).path("chat_template");
                if (t.isTextual()) {
                    return t.asText(); // llama.cpp's converter copies the Hugging Face template as is
                }
            } catch (IOException e) {
                throw new ModelFormatException(config, "not valid JSON: " + e.getMessage());
            }
        }
        return CHAT_TEMPLATE;
    }

    /** Bytes written so far, reported to the progress listener from any thread. */
    private static final class Tracker {
        private final LoadProgress progress;
        private long total;
        private long done;

        Tracker(LoadProgress progress) {
            this.progress = progress == null ? LoadProgress.NONE : progress;
        }

        synchronized void start(long total) {
            this.total = total;
            progress.update("writing", 0, total);
        }

        synchronized long done() {
            return done;
        }

        synchronized void advance(long bytes) {
            done += bytes;
            progress.update("writing", done, total);
        }

        synchronized void set(long value) {
            if (value != done) {
                done = value;
                progress.update("writing", done, total);
            }
        }
    }
}
