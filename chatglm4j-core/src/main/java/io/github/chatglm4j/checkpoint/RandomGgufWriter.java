package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.quant.Quantization;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Full-size ChatGLM3 GGUF files with random weights, typed the way llama.cpp's quantizer types a real conversion,
 * so that benchmarks here read the same bytes per token as with the published files. Matrices are uniform in
 * ±0.04 (as {@link io.github.chatglm4j.format.RandomCheckpointWriter}), norm weights 1, the QKV bias ±0.01, each
 * row quantized from floats with the project's quantizers.
 */
public final class RandomGgufWriter {

    /** The weight mixes this writer can produce, named like llama.cpp's file types. */
    public enum Mix {
        F32, F16, BF16, Q8_0, Q5_1, Q5_0, Q4_1,
        /** All matrices Q4_0 except the output layer in Q6_K: what {@code llama-quantize ... Q4_0} writes. */
        Q4_0,
        /**
         * llama.cpp's Q4_K_M for ChatGLM3: attn_qkv Q5_K, attn_output/ffn_up/token_embd Q4_K, output Q6_K, ffn_down
         * Q6_K on the "more bits" layers and Q4_K on the others; ffn_down rows (13696 values) are not whole
         * 256-blocks, so those fall back to Q8_0 and Q5_0 as llama.cpp does.
         */
        Q4_K_M;

        public static Mix parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown weight type '" + name + "'; use one of "
                        + java.util.Arrays.stream(values()).map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
            }
        }

        GgufModelWriter.TypePolicy policy(ChatGLMConfig c) {
            return switch (this) {
                case Q4_0 -> policy(2, (name, ne) -> name.equals("output.weight") ? TensorType.Q6_K : TensorType.Q4_0);
                case Q4_K_M -> policy(15, (name, ne) -> {
                    if (name.equals("output.weight")) {
                        return TensorType.Q6_K;
                    }
                    if (name.endsWith("attn_qkv.weight")) {
                        return TensorType.Q5_K;
                    }
                    if (name.endsWith("ffn_down.weight")) {
                        int layer = Integer.parseInt(name.split("\\.")[1]);
                        return moreBits(layer, c.numLayers()) ? TensorType.Q6_K : TensorType.Q4_K;
                    }
                    return TensorType.Q4_K;
                });
                default -> GgufModelWriter.TypePolicy.uniform(TensorType.valueOf(name()));
            };
        }

        /** K-quant blocks are 256 wide; rows that are not whole blocks get llama.cpp's fallback type. */
        static TensorType fallback(TensorType type, long rowLength) {
            if (rowLength % type.blockSize() == 0) {
                return type;
            }
            return switch (type) {
                case Q4_K -> TensorType.Q5_0;
                case Q5_K -> TensorType.Q5_1;
                case Q6_K -> TensorType.Q8_0;
                default -> type;
            };
        }

        /** llama.cpp's choice of layers that get more bits: the first and last eighth, and every third between. */
        static boolean moreBits(int layer, int layers) {
            return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        }

        private static GgufModelWriter.TypePolicy policy(int fileType, java.util.function.BiFunction<String, long[], TensorType> matrices) {
            return new GgufModelWriter.TypePolicy() {
                @Override
                public TensorType typeOf(String name, long[] ne) {
                    return ne.length == 1 ? TensorType.F32 : fallback(matrices.apply(name, ne), ne[0]);
                }

                @Override
                public int fileType() {
                    return fileType;
                }
            };
        }
    }

    private RandomGgufWriter() {
    }

    /** Writes {@code out}; {@code threads} fill rows in parallel. Progress reports bytes written ("writing"). */
    public static void write(Path out, ChatGLMConfig config, ChatGLMTokenizer tokenizer, Mix mix, long seed, int threads,
                             LoadProgress progress, boolean overwrite) throws IOException {
        GgufVocabulary vocabulary = GgufVocabulary.of(tokenizer, config.vocabSize());
        try (Parallel pool = Parallel.create(threads)) {
            GgufModelWriter.write(out, config, vocabulary, "chatglm3-6b-random-" + mix.name().toLowerCase(Locale.ROOT),
                    mix.policy(config), (tensor, dst) -> fill(tensor, dst, seed, pool), progress, overwrite);
        }
    }

    /** The tensors and their types, without writing anything (for size checks and tests). */
    public static List<GgufModelWriter.PlannedTensor> plan(ChatGLMConfig config, Mix mix) {
        return GgufModelWriter.plan(config, mix.policy(config));
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
