package io.github.chatglm4j;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.model.KvType;

/**
 * How to load a model.
 *
 * @param threads     compute threads (default: available processors)
 * @param contextSize tokens per conversation, prompt and reply together (0: the model's seq_length, at most 8192)
 * @param preload     read every weight page into memory while loading (with progress) instead of on first use
 * @param progress    receives loading progress
 * @param kvType      how KV caches store keys and values (default F16, as llama.cpp)
 */
public record LoadOptions(int threads, int contextSize, boolean preload, LoadProgress progress, KvType kvType) {
    /** Default context when the model allows more: 8K tokens are 224 MiB of F16 KV cache for a 6B model (448 in F32). */
    public static final int DEFAULT_CONTEXT = 8192;

    public LoadOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (contextSize < 0) {
            throw new IllegalArgumentException("context size must be >= 0, got " + contextSize);
        }
        progress = progress == null ? LoadProgress.NONE : progress;
        kvType = kvType == null ? KvType.DEFAULT : kvType;
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, true, LoadProgress.NONE, KvType.DEFAULT);
    }

    public LoadOptions withThreads(int t) {
        return new LoadOptions(t, contextSize, preload, progress, kvType);
    }

    public LoadOptions withContextSize(int c) {
        return new LoadOptions(threads, c, preload, progress, kvType);
    }

    public LoadOptions withPreload(boolean p) {
        return new LoadOptions(threads, contextSize, p, progress, kvType);
    }

    public LoadOptions withProgress(LoadProgress p) {
        return new LoadOptions(threads, contextSize, preload, p, kvType);
    }

    public LoadOptions withKvType(KvType k) {
        return new LoadOptions(threads, contextSize, preload, progress, k);
    }
}
