package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.quant.Quantization;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Full-size ChatGLM3 GGUF files with random weights, typed the way llama.cpp's quantizer types a real conversion
 * ({@link FileType}), so that benchmarks here read the same bytes per token as with the published files. Matrices are uniform in
 * ±0.04 (as {@link io.github.chatglm4j.format.RandomCheckpointWriter}), norm weights 1, the QKV bias ±0.01, each
 * row quantized from floats with the project's quantizers.
 */
public final class RandomGgufWriter {

    private RandomGgufWriter() {
    }

    /** Writes {@code out}; {@code threads} fill rows in parallel. Progress reports bytes written ("writing"). */
    public static void write(Path out, ChatGLMConfig config, ChatGLMTokenizer tokenizer, FileType type, long seed, int threads,
                             LoadProgress progress, boolean overwrite) throws IOException {
        GgufVocabulary vocabulary = GgufVocabulary.of(tokenizer, config.vocabSize());
        try (Parallel pool = Parallel.create(threads)) {
            GgufModelWriter.write(out, config, vocabulary, "chatglm3-6b-random-" + type.label(),
                    type.policy(config), (tensor, dst) -> fill(tensor, dst, seed, pool), progress, overwrite);
        }
    }

    /** The tensors and their types, without writing anything (for size checks and tests). */
    public static List<GgufModelWriter.PlannedTensor> plan(ChatGLMConfig config, FileType type) {
        return GgufModelWriter.plan(config, type.policy(config));
    }

    private static void fill(GgufModelWriter.PlannedTensor t, MemorySegment dst, long seed, Parallel pool) {
        long[] ne = t.ne();
        int cols = (int) ne[0];
        int rows = ne.length == 1 ? 1 : (int) ne[1];
        long rowBytes = t.type().byteSize(cols);
        boolean norm = t.name().endsWith("norm.weight");
        float range = t.name().endsWith(".bias") ? 0.01f : 0.04f;
        long tensorSeed = seed * 0x9E3779B97F4A7C15L ^ t.name().hashCode();
        pool.forRange(rows, (r0, r1) -> {
            float[] row = new float[cols];
            for (int r = r0; r < r1; r++) {
                var random = new SplittableRandom(tensorSeed + r);
                for (int i = 0; i < cols; i++) {
                    row[i] = norm ? 1f : (float) ((random.nextDouble() * 2 - 1) * range);
                }
                Quantization.quantizeRow(t.type(), row, 0, cols, dst, r * rowBytes);
            }
        });
    }
}
