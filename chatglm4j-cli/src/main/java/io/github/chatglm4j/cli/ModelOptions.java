package io.github.chatglm4j.cli;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.model.KvType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/** Which model to load and how: shared by chat, generate and bench. */
final class ModelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model directory: config.json, tokenizer.model and safetensors or pytorch_model.bin weights.")
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
        return LoadOptions.defaults().withThreads(t).withContextSize(ctx).withPreload(!noPreload).withKvType(kv);
    }

    /** Loads the model with a progress bar on a terminal. */
    ChatGLM load(Io io, int defaultContext) {
        LoadOptions options = loadOptions(defaultContext);
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
        return glm;
    }

    /** "KV cache f16 224.0 MiB": the cache type and its size when a conversation fills the context. */
    static String kvCacheSummary(ChatGLM glm) {
        KvType type = glm.model().kvType();
        return "KV cache " + type.label() + " " + ProgressBar.bytes(type.bytes(glm.config(), glm.contextSize()));
    }
}
