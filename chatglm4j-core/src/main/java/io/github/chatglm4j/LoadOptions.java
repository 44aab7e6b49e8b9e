package io.github.chatglm4j;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.model.KvType;
import io.github.chatglm4j.tensor.TensorType;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How to load a model.
 *
 * @param threads     compute threads (default: available processors)
 * @param contextSize tokens per conversation, prompt and reply together (0: the model's seq_length, at most 8192)
 * @param preload     read every weight page into memory while loading (with progress) instead of on first use
 * @param progress    receives loading progress
 * @param quant       quantize the layer matrices to this type while loading (and the output layer to Q8_0), as the
 *                    reference {@code .quantize(8)} / {@code .quantize(4)} do; null keeps the stored types. One of
 *                    {@link #QUANT_TYPES}; the weights must be stored as F32, F16 or BF16.
 * @param kvType      how KV caches store keys and values (default F16, as llama.cpp)
 * @param repack      the types (Q4_0, Q8_0) whose matrices are copied into native memory in the regrouped layout of
 *                    the int8 kernels (as llama.cpp's repacking; the file's pages are released after the copy, so
 *                    memory use stays about the model size). Default {@link #REPACK_DEFAULT}: Q4_0, whose decode is
 *                    1.1-1.3x faster repacked in the engine; Q8_0 measured no faster (docs/performance.md, issue 14)
 * @param parallel    sequences the model's scheduler generates together (each with its own KV cache, which grows on
 *                    demand): 1 for one conversation at a time, more for a server
 * @param queue       requests that may wait for a free sequence before new ones are refused
 */
public record LoadOptions(int threads, int contextSize, boolean preload, LoadProgress progress, TensorType quant,
                          KvType kvType, Set<TensorType> repack, int parallel, int queue) {
    /** Default context when the model allows more: 8K tokens are 224 MiB of F16 KV cache for a 6B model (448 in F32). */
    public static final int DEFAULT_CONTEXT = 8192;

    /** The types a model can be quantized to while loading: the rows of the type table marked as quantization targets. */
    public static final Set<TensorType> QUANT_TYPES = Collections.unmodifiableSet(
            Arrays.stream(TensorType.values()).filter(TensorType::isQuantTarget)
                    .collect(Collectors.toCollection(() -> EnumSet.noneOf(TensorType.class))));

    public LoadOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (contextSize < 0) {
            throw new IllegalArgumentException("context size must be >= 0, got " + contextSize);
        }
        if (quant != null && !QUANT_TYPES.contains(quant)) {
            throw new IllegalArgumentException("cannot quantize a model to " + quant + " while loading; supported: "
                    + QUANT_TYPES.stream().map(Enum::name).collect(Collectors.joining(", ")));
        }
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel sequences must be >= 1, got " + parallel);
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue capacity must be >= 0, got " + queue);
        }
        repack = repack == null ? Set.of() : Set.copyOf(repack);
        for (TensorType t : repack) {
            if (!REPACKABLE.contains(t)) {
                throw new IllegalArgumentException("cannot repack " + t + ": only " + REPACKABLE + " have a regrouped layout");
            }
        }
        progress = progress == null ? LoadProgress.NONE : progress;
        kvType = kvType == null ? KvType.DEFAULT : kvType;
    }

    /** The types with a regrouped layout (as the type table says). */
    public static final Set<TensorType> REPACKABLE = Collections.unmodifiableSet(Arrays.stream(TensorType.values())
            .filter(TensorType::hasRegroupedLayout).collect(Collectors.toCollection(() -> EnumSet.noneOf(TensorType.class))));

    /** What is repacked unless asked otherwise: Q4_0 (faster in the engine); Q8_0 was not (issue 14). */
    public static final Set<TensorType> REPACK_DEFAULT = Collections.unmodifiableSet(EnumSet.of(TensorType.Q4_0));

    /** Default number of requests that may wait for a free sequence. */
    public static final int DEFAULT_QUEUE = 64;

    /** Options without load-time quantization, with the default KV cache type and one sequence at a time. */
    public LoadOptions(int threads, int contextSize, boolean preload, LoadProgress progress) {
        this(threads, contextSize, preload, progress, null, KvType.DEFAULT, REPACK_DEFAULT, 1, DEFAULT_QUEUE);
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, true, LoadProgress.NONE);
    }

    public LoadOptions withThreads(int t) {
        return new LoadOptions(t, contextSize, preload, progress, quant, kvType, repack, parallel, queue);
    }

    public LoadOptions withContextSize(int c) {
        return new LoadOptions(threads, c, preload, progress, quant, kvType, repack, parallel, queue);
    }

    public LoadOptions withPreload(boolean p) {
        return new LoadOptions(threads, contextSize, p, progress, quant, kvType, repack, parallel, queue);
    }

    public LoadOptions withProgress(LoadProgress p) {
        return new LoadOptions(threads, contextSize, preload, p, quant, kvType, repack, parallel, queue);
    }

    /** Quantize while loading ({@code null}: keep the stored types). */
    public LoadOptions withQuant(TensorType q) {
        return new LoadOptions(threads, contextSize, preload, progress, q, kvType, repack, parallel, queue);
    }

    public LoadOptions withKvType(KvType k) {
        return new LoadOptions(threads, contextSize, preload, progress, quant, k, repack, parallel, queue);
    }

    /** Repack Q4_0 and Q8_0 matrices for the regrouped kernels (true) or read every matrix as stored (false). */
    public LoadOptions withRepack(boolean r) {
        return withRepack(r ? REPACKABLE : Set.of());
    }

    /** Repack the matrices of these types ({@link #REPACKABLE}), read the others as stored. */
    public LoadOptions withRepack(Set<TensorType> types) {
        return new LoadOptions(threads, contextSize, preload, progress, quant, kvType, types, parallel, queue);
    }

    /** Generate up to {@code p} sequences together (a server's parallel requests). */
    public LoadOptions withParallel(int p) {
        return new LoadOptions(threads, contextSize, preload, progress, quant, kvType, repack, p, queue);
    }

    /** Let up to {@code q} requests wait for a free sequence. */
    public LoadOptions withQueue(int q) {
        return new LoadOptions(threads, contextSize, preload, progress, quant, kvType, repack, parallel, q);
    }
}
