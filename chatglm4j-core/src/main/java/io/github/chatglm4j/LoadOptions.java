package io.github.chatglm4j;

import io.github.chatglm4j.format.LoadProgress;

/**
 * How to load a model.
 *
 * @param threads     compute threads (default: available processors)
 * @param contextSize tokens per conversation, prompt and reply together (0: the model's seq_length, at most 8192)
 * @param preload     read every weight page into memory while loading (with progress) instead of on first use
 * @param progress    receives loading progress
 */
public record LoadOptions(int threads, int contextSize, boolean preload, LoadProgress progress) {
    /** Default context when the model allows more: 8K tokens keeps the F32 KV cache of a 6B model under 0.5 GB. */
    public static final int DEFAULT_CONTEXT = 8192;

    public LoadOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (contextSize < 0) {
            throw new IllegalArgumentException("context size must be >= 0, got " + contextSize);
        }
        progress = progress == null ? LoadProgress.NONE : progress;
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, true, LoadProgress.NONE);
    }

    public LoadOptions withThreads(int t) {
        return new LoadOptions(t, contextSize, preload, progress);
    }

    public LoadOptions withContextSize(int c) {
        return new LoadOptions(threads, c, preload, progress);
    }

    public LoadOptions withPreload(boolean p) {
        return new LoadOptions(threads, contextSize, p, progress);
    }

    public LoadOptions withProgress(LoadProgress p) {
        return new LoadOptions(threads, contextSize, preload, p);
    }
}
