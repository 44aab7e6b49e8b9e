package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;

/**
 * The ChatGLM3 forward pass, step for step as {@code modeling_chatglm.py}:
 * embedding → per block (RMSNorm, fused QKV + bias, rotary on half of each head, multi-query causal attention,
 * dense, residual, RMSNorm, SwiGLU MLP, residual) → final RMSNorm → untied output layer.
 * A prompt goes through as one batch (matrix × matrix); decoding feeds one token at a time through the KV cache.
 * The model is immutable and may be shared by several sequences, each with its own {@link KvCache}.
 */
public final class ChatGLMModel {
    /** Prompt tokens processed per batch: bounds the activation memory of very long prompts. */
    private static final int MAX_BATCH = 128;

    private final ChatGLMConfig config;
    private final ChatGLMWeights weights;
    private final Parallel pool;
    private final Rope rope;

    public ChatGLMModel(ChatGLMConfig config, ChatGLMWeights weights, Parallel pool) {
        this.config = config;
        this.weights = weights;
        this.pool = pool;
        this.rope = new Rope(config);
    }

    public ChatGLMConfig config() {
        return config;
    }

    public ChatGLMWeights weights() {
        return weights;
    }

    /** Receives the output of every block (before the final norm), for inspection and tests. */
    @FunctionalInterface
    public interface LayerObserver {
        /** {@code hidden} holds {@code n} rows of hiddenSize values for the positions just processed. */
        void layerOutput(int layer, float[] hidden, int n);
    }

    /**
     * Feeds {@code tokens} after what the cache holds and returns the final-normed hidden state of the last one
     * (pass it to {@link #logits}). Long inputs are split into batches.
     */
    public float[] feed(KvCache cache, int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        float[] last = null;
        for (int from = 0; from < tokens.length; from += MAX_BATCH) {
            int to = Math.min(tokens.length, from + MAX_BATCH);
            float[] normed = forward(cache, java.util.Arrays.copyOfRange(tokens, from, to), null);
            if (to == tokens.length) {
                int h = config.hiddenSize();
                last = java.util.Arrays.copyOfRange(normed, (to - from - 1) * h, (to - from) * h);
            }
        }
        return last;
    }

    /**
     * One batched pass of {@code tokens} at positions {@code cache.length() …}; appends their keys and values to
     * the cache and returns all rows of final-normed hidden states [n, hiddenSize].
     */
    public float[] forward(KvCache cache, int[] tokens, LayerObserver observer) {
        final ChatGLMConfig c = config;
        final int n = tokens.length;
        final int hidden = c.hiddenSize();
        final int qkvSize = c.qkvSize();
        final int attnSize = c.numHeads() * c.headDim();
        final int ffn = c.ffnHiddenSize();
        final int pos0 = cache.length();
        cache.reserve(n);

        float[] x = new float[n * hidden];          // the residual stream
        float[] xb = new float[n * hidden];         // normed input of a sub-block
        float[] qkv = new float[n * qkvSize];
        float[] att = new float[n * attnSize];
        float[] hb = new float[n * 2 * ffn];        // gate | up
        float[] act = new float[n * ffn];
        float[] proj = new float[n * hidden];

        for (int t = 0; t < n; t++) {
            int id = tokens[t];
            if (id < 0 || id >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            weights.embedding.copyRow(id, x, t * hidden);
        }

        float[] cos = new float[rope.pairs()];
        float[] sin = new float[rope.pairs()];
        for (int l = 0; l < c.numLayers(); l++) {
            LayerWeights w = weights.layers[l];

            rmsNorm(x, w.inputNorm(), xb, n, hidden, c.layerNormEps());
            w.qkv().matmul(xb, n, qkv, pool);
            float[] keys = cache.keys(l);
            float[] values = cache.values(l);
            int kvSize = c.kvSize();
            for (int t = 0; t < n; t++) {
                int row = t * qkvSize;
                for (int i = 0; i < qkvSize; i++) {
                    qkv[row + i] += w.qkvBias()[i];
                }
                rope.angles(pos0 + t, cos, sin);
                for (int h = 0; h < c.numHeads() + c.kvGroups(); h++) {   // every query head and every key group
                    Rope.rotate(qkv, row + h * c.headDim(), cos, sin);
                }
                int slot = (pos0 + t) * kvSize;
                System.arraycopy(qkv, row + attnSize, keys, slot, kvSize);
                System.arraycopy(qkv, row + attnSize + kvSize, values, slot, kvSize);
            }
            Attention.run(c, qkv, n, pos0, keys, values, att, pool);
            w.dense().matmul(att, n, proj, pool);
            for (int i = 0; i < n * hidden; i++) {
                x[i] += proj[i];
            }

            rmsNorm(x, w.postNorm(), xb, n, hidden, c.layerNormEps());
            w.hTo4h().matmul(xb, n, hb, pool);
            for (int t = 0; t < n; t++) {
                int in = t * 2 * ffn;
                int o = t * ffn;
                for (int i = 0; i < ffn; i++) {
                    float g = hb[in + i];
                    act[o + i] = g / (1.0f + (float) Math.exp(-g)) * hb[in + ffn + i];
                }
            }
            w.fourHToH().matmul(act, n, proj, pool);
            for (int i = 0; i < n * hidden; i++) {
                x[i] += proj[i];
            }
            if (observer != null) {
                observer.layerOutput(l, x, n);
            }
        }
        cache.advance(n);
        rmsNorm(x, weights.finalNorm, xb, n, hidden, c.layerNormEps());
        return xb;
    }

    /**
     * One decode step for several sequences: feeds {@code tokens[i]} after the contents of {@code caches[i]} and
     * returns each sequence's next-token logits.
     */
    public float[][] decodeBatch(KvCache[] caches, int[] tokens) {
        if (caches.length != tokens.length) {
            throw new IllegalArgumentException(caches.length + " caches but " + tokens.length + " tokens");
        }
        float[][] logits = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            logits[i] = logits(feed(caches[i], new int[]{tokens[i]}), 0);
        }
        return logits;
    }

    /** Output-layer logits [vocabSize] of the final-normed hidden row {@code row} of {@code normed}. */
    public float[] logits(float[] normed, int row) {
        int hidden = config.hiddenSize();
        float[] h = row == 0 && normed.length == hidden ? normed
                : java.util.Arrays.copyOfRange(normed, row * hidden, (row + 1) * hidden);
        float[] logits = new float[config.vocabSize()];
        weights.output.matvec(h, logits, pool);
        return logits;
    }

    private static void rmsNorm(float[] in, float[] weight, float[] out, int n, int size, float eps) {
        for (int t = 0; t < n; t++) {
            int off = t * size;
            double ss = 0;
            for (int i = 0; i < size; i++) {
                ss += (double) in[off + i] * in[off + i];
            }
            float inv = (float) (1.0 / Math.sqrt((float) (ss / size) + eps));
            for (int i = 0; i < size; i++) {
                out[off + i] = weight[i] * (in[off + i] * inv);
            }
        }
    }
}
