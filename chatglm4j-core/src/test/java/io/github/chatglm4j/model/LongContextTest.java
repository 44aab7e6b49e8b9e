package io.github.chatglm4j.model;

import io.github.chatglm4j.testing.Numbers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Positions beyond 32K. A tiny model with the chatglm3-6b-128k config (seq_length 131072, rotary base 10000 × 500)
 * and random weights prefills past 32K positions and decodes there; and the tiny 32k fixture model (its real bf16
 * weights, rotary base 10000 × 50) decodes after 33,000 cached positions. In both, the logits of the decode step
 * equal a plain double-precision forward of that token over the cached keys and values.
 */
class LongContextTest {
    /** Prompt tokens: past 32K, so the decode step runs at position 32,968. */
    private static final int PROMPT = 32_768 + 200;
    private static final double TOLERANCE = 1e-4;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void prefillAndDecodeBeyond32kMatchADoublePrecisionForward() throws Exception {
        ChatGLMConfig c = tiny128kConfig();
        assertThat(c.seqLength()).isEqualTo(131_072);
        assertThat(c.ropeBase()).isEqualTo(5_000_000.0);
        try (var arena = Arena.ofShared(); var pool = Parallel.create(2)) {
            TensorSource weights = randomWeights(arena, c, new SplittableRandom(5));
            var model = new ChatGLMModel(c, ChatGLMWeights.bind(c, weights), pool, KvType.F32);
            KvCache cache = model.newCache(c.seqLength());
            var random = new SplittableRandom(128);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = random.nextInt(c.vocabSize());
            }
            model.feed(cache, prompt);
            assertThat(cache.length()).isEqualTo(PROMPT);
            assertThat(cache.bytesReserved()).as("grown on demand, not to the 128K capacity")
                    .isLessThan(cache.bytesAtCapacity()).isEqualTo(KvType.F32.bytes(c, 2 * 32_768));

            int token = 77;
            double[] want = new Oracle(c, weights, cache).logits(token, PROMPT);
            float[] got = model.decodeBatch(new KvCache[]{cache}, new int[]{token})[0];
            assertThat(cache.length()).isEqualTo(PROMPT + 1);
            for (int i = 0; i < want.length; i++) {
                if (!(Math.abs(want[i] - got[i]) <= TOLERANCE)) {
                    fail("logit " + i + " at position " + PROMPT + ": expected " + want[i] + ", got " + got[i]);
                }
            }
            float[] next = model.logits(model.feed(cache, new int[]{Numbers.argmax(got)}), 0);
            for (float v : next) {
                assertThat(v).as("logits of one more step").isFinite();
            }
        }
    }

    @Test
    void theTiny32kModelDecodesAfter33kCachedPositions() throws Exception {
        Path dir32k = Fixtures.tinyModel32k();
        ChatGLMConfig c = ChatGLMConfig.read(dir32k.resolve("config.json"));
        try (var ckpt = HuggingFaceCheckpoint.open(dir32k, LoadProgress.NONE); var pool = Parallel.create(2)) {
            var model = new ChatGLMModel(c, ChatGLMWeights.bind(c, ckpt), pool, KvType.F32);
            KvCache cache = model.newCache(40_000);
            // a real 33K prompt costs quadratic time; random keys and values stand in for it
            int filled = 33_000;
            var random = new SplittableRandom(32);
            cache.reserve(filled);
            float[] kv = new float[2 * c.kvSize()];
            for (int l = 0; l < c.numLayers(); l++) {
                for (int p = 0; p < filled; p++) {
                    for (int i = 0; i < kv.length; i++) {
                        kv[i] = (float) random.nextGaussian();
                    }
                    cache.store(l, p, kv, 0, c.kvSize());
                }
            }
            cache.advance(filled);
            model.feed(cache, new int[]{64790, 64792, 64795, 30910, 13}); // a prompt block after them

            int token = 36474;
            int pos = cache.length();
            double[] want = new Oracle(c, ckpt, cache).logits(token, pos);
            float[] got = model.decodeBatch(new KvCache[]{cache}, new int[]{token})[0];
            for (int i = 0; i < want.length; i++) {
                if (!(Math.abs(want[i] - got[i]) <= TOLERANCE)) {
                    fail("logit " + i + " at position " + pos + ": expected " + want[i] + ", got " + got[i]);
                }
            }
        }
    }

    /** The real 128k config.json with the sizes shrunk: one layer of 2 heads of dimension 8 keeps a 33K prompt to seconds. */
    private static ChatGLMConfig tiny128kConfig() throws Exception {
        Path file = Fixtures.root().resolve("configs/chatglm3-6b-128k/config.json");
        var config = (ObjectNode) new ObjectMapper().readTree(file.toFile());
        config.put("num_layers", 1).put("hidden_size", 16).put("ffn_hidden_size", 24)
                .put("num_attention_heads", 2).put("kv_channels", 8).put("multi_query_group_num", 2)
                .put("padded_vocab_size", 256);
        return ChatGLMConfig.fromJson(config, file);
    }

    /**
     * Gaussian F32 weights scaled by 1/sqrt(fan-in), the QKV projection 3 times larger so that attention is peaked:
     * with a flat softmax over 33K random positions the output would hardly depend on the rotary angles.
     */
    private static TensorSource randomWeights(Arena arena, ChatGLMConfig c, SplittableRandom random) {
        List<TensorEntry> list = new ArrayList<>();
        int hidden = c.hiddenSize();
        BiConsumer<String, long[]> add = (name, shape) -> {
            long n = shape.length == 1 ? shape[0] : shape[0] * shape[1];
            double scale = name.endsWith("layernorm.weight") ? 0.1
                    : name.endsWith(".bias") ? 0.1
                    : name.contains("word_embeddings") ? 1
                    : (name.contains("query_key_value") ? 3 : 1) / Math.sqrt(shape[1]);
            MemorySegment seg = arena.allocate(4 * n, 64);
            for (long i = 0; i < n; i++) {
                double v = random.nextGaussian() * scale + (name.endsWith("layernorm.weight") ? 1 : 0);
                seg.setAtIndex(FLOAT, i, (float) v);
            }
            list.add(new TensorEntry("transformer." + name, TensorType.F32, shape, seg, Path.of("random")));
        };
        add.accept("embedding.word_embeddings.weight", new long[]{c.vocabSize(), hidden});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "encoder.layers." + l + ".";
            add.accept(p + "input_layernorm.weight", new long[]{hidden});
            add.accept(p + "self_attention.query_key_value.weight", new long[]{c.qkvSize(), hidden});
            add.accept(p + "self_attention.query_key_value.bias", new long[]{c.qkvSize()});
            add.accept(p + "self_attention.dense.weight", new long[]{hidden, (long) c.numHeads() * c.headDim()});
            add.accept(p + "post_attention_layernorm.weight", new long[]{hidden});
            add.accept(p + "mlp.dense_h_to_4h.weight", new long[]{2L * c.ffnHiddenSize(), hidden});
            add.accept(p + "mlp.dense_4h_to_h.weight", new long[]{hidden, c.ffnHiddenSize()});
        }
        add.accept("encoder.final_layernorm.weight", new long[]{hidden});
        add.accept("output_layer.weight", new long[]{c.vocabSize(), hidden});
        return new TensorSource() {
            @Override
            public Optional<TensorEntry> tensor(String name) {
                return list.stream().filter(t -> t.name().equals(name)).findFirst();
            }

            @Override
            public List<TensorEntry> tensors() {
                return list;
            }

            @Override
            public Path location() {
                return Path.of("random");
            }

            @Override
            public String description() {
                return "random tiny 128k weights";
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * One token through every block in double precision, reading the weights straight from the checkpoint and the
     * earlier positions' keys and values from the cache. The rotary angle is the reference's float32 product
     * {@code position × theta} (at 32K its rounding is visible), its cosine and sine are taken in double.
     */
    private record Oracle(ChatGLMConfig c, TensorSource ckpt, KvCache cache) {
        double[] logits(int token, int pos) {
            int hidden = c.hiddenSize();
            int d = c.headDim();
            int kv = c.kvSize();
            int heads = c.numHeads();
            int hpg = heads / c.kvGroups();
            double[] x = row("embedding.word_embeddings.weight", token, hidden);
            for (int l = 0; l < c.numLayers(); l++) {
                String p = "encoder.layers." + l + ".";
                double[] qkv = matvec(p + "self_attention.query_key_value.weight", c.qkvSize(), norm(x, p + "input_layernorm.weight"));
                double[] bias = row(p + "self_attention.query_key_value.bias", 0, c.qkvSize());
                for (int i = 0; i < qkv.length; i++) {
                    qkv[i] += bias[i];
                }
                for (int h = 0; h < heads + c.kvGroups(); h++) {
                    rotate(qkv, h * d, pos);
                }
                float[] keys = new float[pos * d];
                float[] values = new float[pos * d];
                double[] att = new double[heads * d];
                for (int g = 0; g < c.kvGroups(); g++) {
                    cache.keys(l).decode(0, pos, g * d, d, keys);
                    cache.values(l).decode(0, pos, g * d, d, values);
                    for (int h = g * hpg; h < (g + 1) * hpg; h++) {
                        double[] score = new double[pos + 1];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j <= pos; j++) {
                            double s = 0;
                            for (int e = 0; e < d; e++) {
                                double k = j < pos ? keys[j * d + e] : qkv[heads * d + g * d + e];
                                s += qkv[h * d + e] * k;
                            }
                            score[j] = s / Math.sqrt(d);
                            max = Math.max(max, score[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j <= pos; j++) {
                            score[j] = Math.exp(score[j] - max);
                            sum += score[j];
                        }
                        for (int j = 0; j <= pos; j++) {
                            for (int e = 0; e < d; e++) {
                                double v = j < pos ? values[j * d + e] : qkv[heads * d + kv + g * d + e];
                                att[h * d + e] += score[j] / sum * v;
                            }
                        }
                    }
                }
                add(x, matvec(p + "self_attention.dense.weight", hidden, att));
                double[] hb = matvec(p + "mlp.dense_h_to_4h.weight", 2 * c.ffnHiddenSize(), norm(x, p + "post_attention_layernorm.weight"));
                double[] act = new double[c.ffnHiddenSize()];
                for (int i = 0; i < act.length; i++) {
                    double g = hb[i];
                    act[i] = g / (1 + Math.exp(-g)) * hb[act.length + i];
                }
                add(x, matvec(p + "mlp.dense_4h_to_h.weight", hidden, act));
            }
            return matvec("output_layer.weight", c.vocabSize(), norm(x, "encoder.final_layernorm.weight"));
        }

        private void rotate(double[] v, int off, int pos) {
            int rotDim = c.headDim() / 2;
            for (int i = 0; i < rotDim / 2; i++) {
                float theta = 1.0f / (float) Math.pow((float) c.ropeBase(), (float) (2 * i) / rotDim);
                float angle = (float) pos * theta;
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                double x0 = v[off + 2 * i];
                double x1 = v[off + 2 * i + 1];
                v[off + 2 * i] = x0 * cos - x1 * sin;
                v[off + 2 * i + 1] = x1 * cos + x0 * sin;
            }
        }

        private double[] norm(double[] x, String weight) {
            double ss = 0;
            for (double v : x) {
                ss += v * v;
            }
            double inv = 1 / Math.sqrt(ss / x.length + c.layerNormEps());
            double[] w = row(weight, 0, x.length);
            double[] out = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                out[i] = w[i] * x[i] * inv;
            }
            return out;
        }

        private double[] matvec(String name, int rows, double[] x) {
            double[] out = new double[rows];
            for (int r = 0; r < rows; r++) {
                double[] w = row(name, r, x.length);
                for (int i = 0; i < x.length; i++) {
                    out[r] += w[i] * x[i];
                }
            }
            return out;
        }

        private double[] row(String name, int r, int cols) {
            TensorEntry t = ckpt.tensor("transformer." + name).orElseThrow();
            double[] v = new double[cols];
            for (int i = 0; i < cols; i++) {
                long at = (long) r * cols + i;
                v[i] = switch (t.type()) {
                    case F32 -> t.data().getAtIndex(FLOAT, at);
                    case F16 -> Float.float16ToFloat(t.data().getAtIndex(HALF, at));
                    case BF16 -> Float.intBitsToFloat(t.data().getAtIndex(HALF, at) << 16);
                    default -> throw new IllegalStateException("oracle reads F32, F16 and BF16, not " + t.type());
                };
            }
            return v;
        }

        private static void add(double[] x, double[] y) {
            for (int i = 0; i < x.length; i++) {
                x[i] += y[i];
            }
        }
    }
}
