package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The attention kernel against a plain double-precision causal softmax attention, for prompt blocks and decode
 * steps, short and split (chunked) cache lengths, several sequences in one call, and head shapes that take the
 * vector and the scalar decoding paths. Keys and values are random; for F16 and Q8_0 caches the oracle uses the
 * values as the format defines their rounding (IEEE half; int8 × max|block|/127), so every type is held to the
 * same float-rounding tolerance and the storage error itself is tested in {@link KvCacheTest}.
 */
class AttentionTest {
    @AutoClose
    static final Parallel POOL = Parallel.create(2);

    /** Max |difference| of an output value (of order 1) from the double-precision result. */
    private static final double TOLERANCE = 2e-5;

    /** name, config, cache type. */
    static Stream<Arguments> shapes() {
        ChatGLMConfig six = config(32, 128, 2);
        ChatGLMConfig tiny = config(4, 16, 2);
        ChatGLMConfig odd = config(8, 4, 2);      // chatglm.cpp's test block: head dim 4, scalar paths
        ChatGLMConfig wide = config(6, 12, 3);    // head dim not a multiple of 8, 2 heads per group
        return Stream.of(
                Arguments.of("6B shape F32", six, KvType.F32),
                Arguments.of("6B shape F16", six, KvType.F16),
                Arguments.of("6B shape Q8_0", six, KvType.Q8_0),
                Arguments.of("tiny F32", tiny, KvType.F32),
                Arguments.of("tiny F16", tiny, KvType.F16),
                Arguments.of("tiny Q8_0", tiny, KvType.Q8_0),
                Arguments.of("head dim 4 F32", odd, KvType.F32),
                Arguments.of("head dim 4 F16", odd, KvType.F16),
                Arguments.of("head dim 4 Q8_0", odd, KvType.Q8_0),
                Arguments.of("head dim 12 F32", wide, KvType.F32),
                Arguments.of("head dim 12 Q8_0", wide, KvType.Q8_0));
    }

    private static ChatGLMConfig config(int heads, int headDim, int groups) {
        return new ChatGLMConfig(1, heads * headDim, 8, heads, headDim, groups, 8, 4096, 1e-5f, 1f);
    }

    /** One sequence of a call: {@code cached} positions already there, then {@code rows} new ones. */
    private record Seq(int cached, int rows) {
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void matchesDoublePrecisionAttention(String name, ChatGLMConfig c, KvType type) {
        // a prompt block from 0, a prompt block late in the cache, short and long decode steps (the long ones
        // are split in chunks), and a 3-token block that is split too (its causal limit falls inside the last chunk)
        Seq[] seqs = {new Seq(0, 70), new Seq(1500, 9), new Seq(5, 1), new Seq(2047, 1), new Seq(3000, 1), new Seq(1200, 3)};
        var random = new SplittableRandom(name.hashCode());
        int qkvSize = c.qkvSize();
        int attn = c.numHeads() * c.headDim();
        int totalRows = 0;
        for (Seq s : seqs) {
            totalRows += s.rows();
        }
        float[] qkv = new float[totalRows * qkvSize];
        float[][] kv = new float[seqs.length][];           // all positions' K|V rows, [pos][2 * kvSize]
        Attention.Segment[] segments = new Attention.Segment[seqs.length];
        int row0 = 0;
        for (int i = 0; i < seqs.length; i++) {
            Seq s = seqs[i];
            int n = s.cached() + s.rows();
            kv[i] = new float[n * 2 * c.kvSize()];
            for (int j = 0; j < kv[i].length; j++) {
                // keys with some large entries so that softmax is peaked; values order 1
                kv[i][j] = (float) (random.nextGaussian() * (j % (2 * c.kvSize()) < c.kvSize() ? 1.5 : 1.0));
            }
            KvCache cache = new KvCache(c, n, type);
            cache.reserve(n);
            for (int p = 0; p < n; p++) {
                cache.store(0, p, kv[i], p * 2 * c.kvSize(), p * 2 * c.kvSize() + c.kvSize());
            }
            cache.advance(s.cached());
            for (int r = 0; r < s.rows(); r++) {
                for (int q = 0; q < attn; q++) {
                    qkv[(row0 + r) * qkvSize + q] = (float) random.nextGaussian();
                }
            }
            segments[i] = new Attention.Segment(cache, row0, s.rows(), s.cached());
            row0 += s.rows();
        }

        float[] out = new float[totalRows * attn];
        Attention.run(c, 0, segments, qkv, out, POOL);

        for (int i = 0; i < seqs.length; i++) {
            Seq s = seqs[i];
            for (int r = 0; r < s.rows(); r++) {
                int row = segments[i].row0() + r;
                double[] want = reference(c, qkv, row, stored(kv[i], type, c.kvSize()), s.cached() + r + 1);
                for (int e = 0; e < attn; e++) {
                    double d = Math.abs(want[e] - out[row * attn + e]);
                    if (!(d <= TOLERANCE)) {
                        fail(String.format("%s: sequence %d (%d cached + %d rows), row %d, head %d, dim %d: expected %.6f, got %.6f (|diff| %.2e > %.1e)",
                                name, i, s.cached(), s.rows(), r, e / c.headDim(), e % c.headDim(), want[e], out[row * attn + e], d, TOLERANCE));
                    }
                }
            }
        }
    }

    /** The values a cache of {@code type} holds for rows of {@code width} values, by the format's definition. */
    static float[] stored(float[] rows, KvType type, int width) {
        float[] v = rows.clone();
        switch (type) {
            case F32 -> {
            }
            case F16 -> {
                for (int i = 0; i < v.length; i++) {
                    v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
                }
            }
            case Q8_0 -> {
                for (int row = 0; row < v.length; row += width) {
                    for (int b = row; b < row + width; b += 32) {
                        int end = Math.min(row + width, b + 32);
                        float amax = 0;
                        for (int i = b; i < end; i++) {
                            amax = Math.max(amax, Math.abs(v[i]));
                        }
                        float d = amax / 127f;
                        for (int i = b; i < end; i++) {
                            v[i] = d == 0 ? 0 : Math.round(v[i] * (1f / d)) * d;
                        }
                    }
                }
            }
        }
        return v;
    }

    /** Softmax(q·k / sqrt(d)) · v in double over positions [0, len), every head of one row. */
    static double[] reference(ChatGLMConfig c, float[] qkv, int row, float[] kv, int len) {
        int d = c.headDim();
        int hpg = c.numHeads() / c.kvGroups();
        double[] out = new double[c.numHeads() * d];
        double[] score = new double[len];
        for (int h = 0; h < c.numHeads(); h++) {
            int q = row * c.qkvSize() + h * d;
            int col = h / hpg * d;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < len; j++) {
                double dot = 0;
                for (int e = 0; e < d; e++) {
                    dot += (double) qkv[q + e] * kv[j * 2 * c.kvSize() + col + e];
                }
                score[j] = dot / Math.sqrt(d);
                max = Math.max(max, score[j]);
            }
            double sum = 0;
            for (int j = 0; j < len; j++) {
                score[j] = Math.exp(score[j] - max);
                sum += score[j];
            }
            for (int j = 0; j < len; j++) {
                for (int e = 0; e < d; e++) {
                    out[h * d + e] += score[j] / sum * kv[j * 2 * c.kvSize() + c.kvSize() + col + e];
                }
            }
        }
        return out;
    }
}
