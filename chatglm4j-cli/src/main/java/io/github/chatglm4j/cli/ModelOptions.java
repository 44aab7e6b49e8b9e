package io.github.chatglm4j.cli;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.hub.Source;
import io.github.chatglm4j.tensor.VectorWidth;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.tensor.TensorType;
import picocli.CommandLine.ITypeConverter;
import io.github.chatglm4j.model.KvType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;

/** Which model to load and how: shared by chat, generate and bench. */
final class ModelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "The model: a directory (config.json, tokenizer.model, safetensors or pytorch_model.bin) or "
                    + ".gguf file, or a Hugging Face repo id (THUDM/chatglm3-6b, ORG/NAME@REVISION, ORG/NAME/FILE.gguf, "
                    + "modelscope:ZhipuAI/chatglm3-6b) downloaded into the Hugging Face cache on first use (HF_HUB_CACHE, "
                    + "HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE apply; an existing path wins). "
                    + "chat and serve default to " + ModelLocation.DEFAULT_MODEL + " (a 12.5 GB download the first time).")
    String model;

    @Option(names = "--file", paramLabel = "NAME", description = "One file of the model repository to load (a .gguf file).")
    String file;

    @Option(names = "--source", paramLabel = "SOURCE", converter = ModelLocation.SourceConverter.class,
            completionCandidates = ModelLocation.SourceConverter.class,
            description = "Where repo ids are downloaded from: huggingface (default; HF_ENDPOINT=https://hf-mirror.com "
                    + "for the mirror) or modelscope (its own cache, MODELSCOPE_CACHE).")
    Source source;

    @Option(names = "--quiet", description = "Show no download progress.")
    boolean quiet;

    /** The local model path, once resolved. */
    Path dir;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Compute threads (default: all processors).")
    Integer threads;

    @Option(names = "--ctx", paramLabel = "TOKENS",
            description = "Context size: prompt and reply tokens together (default: the model's seq_length, at most 8192).")
    Integer contextSize;

    @Option(names = "--kv-type", paramLabel = "TYPE",
            description = "KV cache storage: f16 (default, as llama.cpp), f32 (exact, twice the memory) or q8_0 (about half of f16).")
    String kvType;

    @Option(names = "--no-preload",
            description = "Do not read all weights while loading; pages are then read from disk on first use.")
    boolean noPreload;

    @Option(names = "--repack",
            description = "Copy Q8_0 weights too (Q4_0 always, unless --no-repack) once into the regrouped layout of the "
                    + "int8 kernels (Q4_0 decodes faster so; Q8_0 measured no faster, see docs/performance.md).")
    boolean repack;

    @Option(names = "--no-repack",
            description = "Read every weight matrix in its stored layout (no copy at load; Q4_0 decodes slower).")
    boolean noRepack;

    @Option(names = "--quant", paramLabel = "TYPE", converter = QuantType.class, completionCandidates = QuantType.class,
            description = "Quantize the layer weights while loading: one of ${COMPLETION-CANDIDATES} (case-insensitive); "
                    + "the output layer becomes q8_0. Needs F32/F16/BF16 weights. q8_0 about halves the memory of F16 "
                    + "weights, q4_0 needs less than a third, at some loss of quality.")
    TensorType quant;

    /** The options as given, checked; {@code defaultContext} applies when --ctx is absent (0: the library's default). */
    LoadOptions loadOptions(int defaultContext) {
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1, got " + t);
        }
        int ctx = contextSize == null ? defaultContext : contextSize;
        if (contextSize != null && contextSize < 2) {
            throw new ParameterException(spec.commandLine(), "--ctx must be at least 2 tokens, got " + contextSize);
        }
        KvType kv;
        try {
            kv = kvType == null ? KvType.DEFAULT : KvType.parse(kvType);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--kv-type: " + e.getMessage());
        }
        if (repack && noRepack) {
            throw new ParameterException(spec.commandLine(), "--repack and --no-repack contradict each other");
        }
        var options = LoadOptions.defaults().withThreads(t).withContextSize(ctx).withPreload(!noPreload).withKvType(kv).withQuant(quant);
        return repack || noRepack ? options.withRepack(repack) : options;
    }

    /** Parses {@code --quant} values: the load-time types ({@link LoadOptions#QUANT_TYPES}) by their lower-case names, any case. */
    static final class QuantType implements ITypeConverter<TensorType>, Iterable<String> {
        private static final List<String> NAMES = LoadOptions.QUANT_TYPES.stream().map(TensorType::label).toList();

        @Override
        public TensorType convert(String value) {
            return TensorType.parse(value).filter(LoadOptions.QUANT_TYPES::contains).orElseThrow(() ->
                    new TypeConversionException("expected one of " + String.join(", ", NAMES) + " but was '" + value + "'"));
        }

        @Override
        public Iterator<String> iterator() {
            return NAMES.iterator();
        }
    }

    /** What -m says, or the default model for chat and serve; a usage error for the other commands. */
    String model() {
        if (model != null) {
            return model;
        }
        String command = spec.commandLine().getCommandName();
        if (command.equals("chat") || command.equals("serve")) {
            return ModelLocation.DEFAULT_MODEL;
        }
        throw new ParameterException(spec.commandLine(), "Missing required option: '--model=MODEL'");
    }

    /** The model as a user would name it: the repo id, or the directory or file name. */
    String displayName() {
        String m = model();
        Path p = Path.of(m);
        return java.nio.file.Files.exists(p) ? String.valueOf(p.toAbsolutePath().normalize().getFileName())
                : m.startsWith("modelscope:") ? m.substring("modelscope:".length()) : m;
    }

    /** The local path of the model, downloading it first when -m is a repo id that is not cached. */
    Path resolve(Io io) {
        if (dir == null) {
            dir = ModelLocation.resolve(model(), file, source, quiet, io);
        }
        return dir;
    }

    /** Loads the model with a progress bar on a terminal. */
    ChatGLM load(Io io, int defaultContext) {
        return load(io, loadOptions(defaultContext));
    }

    /** Loads the model with these options (made by {@link #loadOptions}) and a progress bar on a terminal. */
    ChatGLM load(Io io, LoadOptions options) {
        // the kernels need 256-bit vectors: say so once instead of crawling silently in the Vector API's software path
        VectorWidth.warnOnce().ifPresent(w -> io.err().println("chatglm: warning: " + w));
        if (debugRequested()) {
            io.err().println("chatglm: kernels use " + VectorWidth.describe());
        }
        resolve(io);
        var bar = new ProgressBar(io, false);
        ChatGLM glm;
        try {
            glm = ChatGLM.load(dir, options.withProgress(bar));
        } finally {
            bar.finishLine();
        }
        if (glm.contextSize() > glm.config().seqLength()) {
            io.err().println("chatglm: warning: --ctx " + glm.contextSize() + " is beyond the " + glm.config().seqLength()
                    + " tokens this model was trained for; replies past that length will degrade");
        }
        if (repack && glm.model().weights().matrices().values().stream().noneMatch(WeightMatrix::isRegrouped)) {
            io.err().println("chatglm: note: --repack applies to Q4_0 and Q8_0 weights only; this model has none, nothing was repacked");
        }
        return glm;
    }

    private boolean debugRequested() {
        for (var p = spec.root().commandLine().getParseResult(); p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** "KV cache f16 224.0 MiB": the cache type and its size when a conversation fills the context. */
    static String kvCacheSummary(ChatGLM glm) {
        KvType type = glm.model().kvType();
        return "KV cache " + type.label() + " " + ProgressBar.bytes(type.bytes(glm.config(), glm.contextSize()));
    }
}
