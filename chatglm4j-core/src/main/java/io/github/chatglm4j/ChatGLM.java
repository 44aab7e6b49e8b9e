package io.github.chatglm4j;

import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.checkpoint.GgufCheckpoint;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.generate.BatchRequest;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.ModelStepper;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.generate.TokenStream;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.ChatGLMWeights;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.tensor.quant.MatrixQuantizer;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A loaded ChatGLM3 model: the entry point of the library.
 *
 * <pre>{@code
 * try (ChatGLM glm = ChatGLM.load(Path.of("chatglm3-6b"))) {
 *     ChatSession chat = glm.newChat();
 *     ChatReply reply = chat.send("你好", (id, text) -> System.out.print(text));
 *     System.out.println(reply.text());
 * }
 * }</pre>
 * Every generation goes through the model's one {@link #scheduler() scheduler}, which runs up to
 * {@link LoadOptions#parallel()} requests together; the model is thread-safe, and each {@link ChatSession} is used by
 * one thread at a time.
 */
public final class ChatGLM implements AutoCloseable {
    private final Path location;
    private final ChatGLMConfig config;
    private final ChatGLMTokenizer tokenizer;
    private final PromptBuilder prompts;
    private final ChatGLMModel model;
    private final TensorSource weightsSource;
    private final Parallel pool;
    private final MatrixQuantizer quantized;
    private final int contextSize;
    private final BatchScheduler scheduler;

    private ChatGLM(Path location, ChatGLMConfig config, ChatGLMTokenizer tokenizer, ChatGLMModel model,
                    TensorSource weightsSource, Parallel pool, MatrixQuantizer quantized, int contextSize,
                    LoadOptions options) {
        this.location = location;
        this.config = config;
        this.tokenizer = tokenizer;
        this.prompts = new PromptBuilder(tokenizer);
        this.model = model;
        this.weightsSource = weightsSource;
        this.pool = pool;
        this.quantized = quantized;
        this.contextSize = contextSize;
        this.scheduler = new BatchScheduler(new ModelStepper(model, contextSize), tokenizer, options.parallel(), options.queue());
    }

    /** Loads a Hugging Face model directory or a .gguf file with default options. */
    public static ChatGLM load(Path dir) {
        return load(dir, LoadOptions.defaults());
    }

    /**
     * Loads a Hugging Face model directory ({@code config.json}, {@code tokenizer.model} and safetensors or
     * PyTorch weights) or a single GGUF file as llama.cpp's converter writes it. Problems with the files are
     * reported as {@link ModelFormatException}. With {@link LoadOptions#quant()} set, the layer matrices are
     * quantized into native memory (progress stage "quantizing"), freed by {@link #close()}; weights that are
     * already quantized are then an error. Matrices of the types in {@link LoadOptions#repack()} (Q4_0 by default) are copied into
     * native memory in the regrouped layout (stage "repacking"; also freed by {@link #close()}), as are --quant q4_0
     * results when Q4_0 is among them.
     */
    public static ChatGLM load(Path dir, LoadOptions options) {
        if (GgufFile.isGguf(dir)) {
            GgufCheckpoint gguf = GgufCheckpoint.open(dir, options.progress());
            return assemble(dir, gguf.config(), gguf.tokenizer(), gguf, options);
        }
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, Files.exists(dir) ? "not a model directory or GGUF file" : "no such directory");
        }
        ChatGLMConfig config = ChatGLMConfig.read(dir.resolve("config.json"));
        ChatGLMTokenizer tokenizer = ChatGLMTokenizer.load(dir.resolve("tokenizer.model"));
        return assemble(dir, config, tokenizer, HuggingFaceCheckpoint.open(dir, options.progress()), options);
    }

    /** Binds the weights of an opened source; closes it if that fails. */
    private static ChatGLM assemble(Path location, ChatGLMConfig config, ChatGLMTokenizer tokenizer, TensorSource source,
                                    LoadOptions options) {
        int context = options.contextSize() > 0 ? options.contextSize() : Math.min(config.seqLength(), LoadOptions.DEFAULT_CONTEXT);
        Parallel pool = null;
        MatrixQuantizer quantizer = null;
        try {
            pool = Parallel.create(options.threads());
            ChatGLMWeights weights;
            LoadProgress progress = options.progress();
            if (options.quant() == null) {
                weights = ChatGLMWeights.bind(config, source);
                Set<TensorType> repack = options.repack();
                if (weights.matrices().values().stream().anyMatch(m -> m.canRegroup() && repack.contains(m.type()))) {
                    // Q4_0 (Q8_0) from the file: copied once into the kernels' layout, the file pages released behind it
                    MatrixQuantizer repacker = new MatrixQuantizer(pool, (done, total) -> progress.update("repacking", done, total));
                    quantizer = repacker;
                    weights = weights.replaceMatrices(matrices -> repacker.regroup(matrices, repack));
                }
            } else {
                quantizer = new MatrixQuantizer(pool, (done, total) -> progress.update("quantizing", done, total),
                        options.repack().contains(TensorType.Q4_0));
                weights = ChatGLMWeights.bind(config, source, options.quant(), quantizer);
            }
            if (options.preload()) {
                // only the matrices still read from the files (not those quantized or repacked into native memory)
                preload(weights.matrices().values().stream().map(WeightMatrix::data).filter(MemorySegment::isMapped).toList(),
                        options.progress());
            }
            return new ChatGLM(location, config, tokenizer, new ChatGLMModel(config, weights, pool, options.kvType()), source, pool,
                    quantizer, context, options);
        } catch (RuntimeException | Error e) {
            // also on OutOfMemoryError (e.g. native memory for --quant/--repack copies): free what was built
            source.close();
            if (pool != null) {
                pool.close();
            }
            if (quantizer != null) {
                quantizer.close();
            }
            throw e;
        }
    }

    /** Touches every page of the weights so that the first reply is not slowed by disk reads. */
    private static void preload(List<MemorySegment> segments, LoadProgress progress) {
        long total = 0;
        for (MemorySegment s : segments) {
            total += s.byteSize();
        }
        long done = 0;
        progress.update("reading", 0, total);
        for (MemorySegment s : segments) {
            s.load();
            done += s.byteSize();
            progress.update("reading", done, total);
        }
    }

    public Path location() {
        return location;
    }

    public ChatGLMConfig config() {
        return config;
    }

    public ChatGLMTokenizer tokenizer() {
        return tokenizer;
    }

    /** Builds prompt ids exactly as the reference {@code build_chat_input}. */
    public PromptBuilder prompts() {
        return prompts;
    }

    /** The forward pass, for callers that drive sequences themselves. */
    public ChatGLMModel model() {
        return model;
    }

    /** Tokens per conversation (prompt and reply together). */
    public int contextSize() {
        return contextSize;
    }

    public int threads() {
        return pool.threads();
    }

    /** A new, empty conversation. */
    public ChatSession newChat() {
        return new ChatSession(this, List.of());
    }

    /** A new conversation that starts with these messages (e.g. a system prompt, or a system message with tools). */
    public ChatSession newChat(List<ChatMessage> history) {
        return new ChatSession(this, history);
    }

    /**
     * The continuous-batching scheduler that runs every generation of this model (what a server submits to): up to
     * {@link LoadOptions#parallel()} requests generate together, each sequence with a KV cache of up to
     * {@link #contextSize()} tokens; {@link LoadOptions#queue()} more may wait.
     */
    public BatchScheduler scheduler() {
        return scheduler;
    }

    /**
     * Plain completion (the base model's use): {@code [gMASK] sop} + the text, as the reference tokenizer builds
     * it, then generation until end of text or a limit. The listener is called on this thread.
     */
    public Generation complete(String prompt, GenerationOptions options, TokenListener listener) {
        return complete(prompts.buildCompletion(prompt), options, listener);
    }

    /** Completion after exactly these ids; the listener is called on this thread. */
    public Generation complete(int[] promptIds, GenerationOptions options, TokenListener listener) {
        return TokenStream.submit(scheduler, new BatchRequest(promptIds, options)).drain(listener::onToken);
    }

    @Override
    public void close() {
        scheduler.close();
        pool.close();
        weightsSource.close();
        if (quantized != null) {
            quantized.close();
        }
    }
}
