package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.StepProfile;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Set;

/**
 * The ChatGLM3 forward pass, step for step as {@code modeling_chatglm.py}:
 * embedding → per block (RMSNorm, fused QKV + bias, rotary on half of each head, multi-query causal attention,
 * dense, residual, RMSNorm, SwiGLU MLP, residual) → final RMSNorm → untied output layer.
 * A pass runs the rows of one or several sequences together: a prompt goes through as one batch of its tokens,
 * and a decode step of several sequences as one batch of their next tokens, so each weight matrix is read once
 * per pass (matrix × matrix); only attention is per sequence, each against its own {@link KvCache}.
 * The model is immutable and may be shared by several sequences.
 */
public final class ChatGLMModel {
    /** Prompt tokens processed per batch: bounds the activation memory of very long prompts. */
    private static final int MAX_BATCH = 128;

    private final ChatGLMConfig config;
    private final ChatGLMWeights weights;
    private final Parallel pool;
    private final Rope rope;
    private final KvType kvType;

    /** A model whose {@link #newCache caches} store {@link KvType#DEFAULT}. */
    public ChatGLMModel(ChatGLMConfig config, ChatGLMWeights weights, Parallel pool) {
        this(config, weights, pool, KvType.DEFAULT);
    }

    /** A model whose {@link #newCache caches} store {@code kvType}. */
    public ChatGLMModel(ChatGLMConfig config, ChatGLMWeights weights, Parallel pool, KvType kvType) {
        this.config = config;
        this.weights = weights;
        this.pool = Objects.requireNonNull(pool, "pool");
        this.rope = new Rope(config);
        this.kvType = Objects.requireNonNull(kvType, "kvType");
    }

    public ChatGLMConfig config() {
        return config;
    }

    public ChatGLMWeights weights() {
        return weights;
    }

    /** The storage type of the caches {@link #newCache} makes. */
    public KvType kvType() {
        return kvType;
    }

    /** An empty cache for up to {@code capacity} positions in this model's {@link #kvType()}. */
    public KvCache newCache(int capacity) {
        return new KvCache(config, capacity, kvType);
    }

    /** Receives the output of every block (before the final norm), for inspection and tests. */
    @FunctionalInterface
    public interface LayerObserver {
        /** {@code hidden} holds {@code n} rows of hiddenSize values for the positions just processed. */
        void layerOutput(int layer, float[] hidden, int n);
    }

    /**
     * The activations of passes over up to some number of rows, allocated once and grown on demand, like the run
     * state of llama2.c, and the two halves of a block computed over them: whoever drives the model (the scheduler
     * thread) keeps one and passes it to every call, so a decode step allocates no activations. One thread uses a
     * workspace at a time.
     */
    public final class Workspace {
        private int capacity;
        private int[] position;
        private float[] cos;      // [n][pairs] rotary angles of each row's position
        private float[] sin;
        private float[] x;        // the residual stream
        private float[] xb;       // normed input of a sub-block
        private float[] qkv;
        private float[] att;
        private float[] hb;       // gate | up
        private float[] act;
        private float[] proj;
        private float[] logits = new float[0];
        private float[][] rows = new float[0][];

        private void ensure(int n) {
            if (n <= capacity) {
                return;
            }
            ChatGLMConfig c = config;
            capacity = Math.max(n, Math.min(MAX_BATCH, 2 * capacity));
            int pairs = rope.pairs();
            position = new int[capacity];
            cos = new float[capacity * pairs];
            sin = new float[capacity * pairs];
            x = new float[capacity * c.hiddenSize()];
            xb = new float[capacity * c.hiddenSize()];
            qkv = new float[capacity * c.qkvSize()];
            att = new float[capacity * c.numHeads() * c.headDim()];
            hb = new float[capacity * 2 * c.ffnHiddenSize()];
            act = new float[capacity * c.ffnHiddenSize()];
            proj = new float[capacity * c.hiddenSize()];
        }

        /** Positions and rotary angles of the rows of a pass over {@code segments}. */
        private void begin(Attention.Segment[] segments, int n) {
            ensure(n);
            for (Attention.Segment s : segments) {
                for (int t = 0; t < s.rows(); t++) {
                    position[s.row0() + t] = s.pos0() + t;
                }
            }
            int pairs = rope.pairs();
            for (int t = 0; t < n; t++) {
                rope.angles(position[t], cos, sin, t * pairs);
            }
        }

        /** x += dense(attention(rope(qkv(norm(x))))), storing each row's keys and values in its cache. */
        void attentionBlock(Attention.Segment[] segments, int n, int l) {
            ChatGLMConfig c = config;
            LayerWeights w = weights.layers[l];
            int qkvSize = c.qkvSize();
            int attnSize = c.numHeads() * c.headDim();
            int kvSize = c.kvSize();
            rmsNorm(x, w.inputNorm(), xb, n, c.hiddenSize(), c.layerNormEps());
            w.qkv().matmul(xb, n, qkv, pool);
            for (Attention.Segment s : segments) {
                for (int t = s.row0(); t < s.row0() + s.rows(); t++) {
                    int row = t * qkvSize;
                    for (int i = 0; i < qkvSize; i++) {
                        qkv[row + i] += w.qkvBias()[i];
                    }
                    for (int h = 0; h < c.numHeads() + c.kvGroups(); h++) {   // every query head and every key group
                        rope.rotate(qkv, row + h * c.headDim(), cos, sin, t * rope.pairs());
                    }
                    s.cache().store(l, position[t], qkv, row + attnSize, row + attnSize + kvSize);
                }
            }
            long t0 = StepProfile.start();
            Attention.run(c, l, segments, qkv, att, pool);
            StepProfile.add("attention", t0);
            w.dense().matmul(att, n, proj, pool);
            add(x, proj, n * c.hiddenSize());
        }

        /** x += down(silu(gate(norm(x))) · up(norm(x))). */
        void mlpBlock(int n, int l) {
            ChatGLMConfig c = config;
            LayerWeights w = weights.layers[l];
            int ffn = c.ffnHiddenSize();
            rmsNorm(x, w.postNorm(), xb, n, c.hiddenSize(), c.layerNormEps());
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
            add(x, proj, n * c.hiddenSize());
        }

        /** Logit rows for {@code b} sequences, reused: valid until the next call with this workspace. */
        private float[][] logitRows(int b) {
            int vocab = config.vocabSize();
            if (logits.length < b * vocab) {
                logits = new float[b * vocab];
            }
            if (rows.length < b || rows[0].length != vocab) {
                rows = new float[Math.max(b, rows.length)][vocab];
            }
            return rows;
        }
    }

    /** A new workspace (see {@link Workspace}). */
    public Workspace newWorkspace() {
        return new Workspace();
    }

    /**
     * Feeds {@code tokens} after what the cache holds and returns the final-normed hidden state of the last one
     * (pass it to {@link #logits}). Long inputs are split into batches.
     */
    public float[] feed(KvCache cache, int[] tokens) {
        return feed(cache, tokens, newWorkspace());
    }

    /** As {@link #feed(KvCache, int[])} with the activations in {@code ws}. */
    public float[] feed(KvCache cache, int[] tokens, Workspace ws) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        float[] last = null;
        for (int from = 0; from < tokens.length; from += MAX_BATCH) {
            int to = Math.min(tokens.length, from + MAX_BATCH);
            float[] normed = pass(new KvCache[]{cache}, new int[]{0, to - from}, Arrays.copyOfRange(tokens, from, to), null, ws);
            if (to == tokens.length) {
                int h = config.hiddenSize();
                last = Arrays.copyOfRange(normed, (to - from - 1) * h, (to - from) * h);
            }
        }
        return last;
    }

    /**
     * One batched pass of {@code tokens} at positions {@code cache.length() …}; appends their keys and values to
     * the cache and returns all rows of final-normed hidden states [n, hiddenSize].
     */
    public float[] forward(KvCache cache, int[] tokens, LayerObserver observer) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to feed");
        }
        float[] normed = pass(new KvCache[]{cache}, new int[]{0, tokens.length}, tokens, observer, newWorkspace());
        return Arrays.copyOf(normed, tokens.length * config.hiddenSize());
    }

    /**
     * One decode step for several sequences in one pass: feeds {@code tokens[i]} after the contents of
     * {@code caches[i]} (all distinct) and returns each sequence's next-token logits. The result equals feeding
     * each sequence alone, up to float rounding.
     */
    public float[][] decodeBatch(KvCache[] caches, int[] tokens) {
        float[][] rows = decodeBatch(caches, tokens, newWorkspace());
        return Arrays.copyOf(rows, tokens.length);
    }

    /**
     * As {@link #decodeBatch(KvCache[], int[])} with the activations in {@code ws}; the returned rows belong to the
     * workspace and are overwritten by its next call (the array may hold more rows than {@code tokens}).
     */
    public float[][] decodeBatch(KvCache[] caches, int[] tokens, Workspace ws) {
        if (caches.length != tokens.length) {
            throw new IllegalArgumentException(caches.length + " caches but " + tokens.length + " tokens");
        }
        int b = tokens.length;
        if (b == 0) {
            return new float[0][];
        }
        Set<KvCache> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        for (KvCache cache : caches) {
            if (!distinct.add(Objects.requireNonNull(cache, "cache"))) {
                throw new IllegalArgumentException("the same cache appears twice in one decode batch");
            }
        }
        int[] starts = new int[b + 1];
        for (int i = 0; i <= b; i++) {
            starts[i] = i;
        }
        float[] normed = pass(caches, starts, tokens, null, ws);
        int vocab = config.vocabSize();
        float[][] rows = ws.logitRows(b);
        long t0 = StepProfile.start();
        weights.output.matmul(normed, b, ws.logits, pool);
        StepProfile.add("output layer", t0);
        for (int i = 0; i < b; i++) {
            System.arraycopy(ws.logits, i * vocab, rows[i], 0, vocab);
        }
        return rows;
    }

    /** Output-layer logits [vocabSize] of the final-normed hidden row {@code row} of {@code normed}. */
    public float[] logits(float[] normed, int row) {
        int hidden = config.hiddenSize();
        float[] h = row == 0 && normed.length == hidden ? normed
                : Arrays.copyOfRange(normed, row * hidden, (row + 1) * hidden);
        float[] logits = new float[config.vocabSize()];
        long t0 = StepProfile.start();
        weights.output.matvec(h, logits, pool);
        StepProfile.add("output layer", t0);
        return logits;
    }

    /**
     * Runs rows {@code [starts[s], starts[s+1])} of {@code tokens} after the contents of {@code caches[s]} through
     * every block, appends their keys and values, and returns the final-normed hidden rows.
     */
    private float[] pass(KvCache[] caches, int[] starts, int[] tokens, LayerObserver observer, Workspace ws) {
        for (int id : tokens) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        Attention.Segment[] segments = new Attention.Segment[caches.length];
        for (int s = 0; s < caches.length; s++) {
            int rows = starts[s + 1] - starts[s];
            caches[s].reserve(rows);
            segments[s] = new Attention.Segment(caches[s], starts[s], rows, caches[s].length());
        }
        int n = tokens.length;
        long t0 = StepProfile.start();
        ws.begin(segments, n);
        for (int t = 0; t < n; t++) {
            weights.embedding.copyRow(tokens[t], ws.x, t * config.hiddenSize());
        }
        for (int l = 0; l < config.numLayers(); l++) {
            ws.attentionBlock(segments, n, l);
            ws.mlpBlock(n, l);
            if (observer != null) {
                observer.layerOutput(l, ws.x, n);
            }
        }
        for (Attention.Segment s : segments) {
            s.cache().advance(s.rows());
        }
        rmsNorm(ws.x, weights.finalNorm, ws.xb, n, config.hiddenSize(), config.layerNormEps());
        StepProfile.add(StepProfile.ENABLED ? "pass (all layers) n=" + n : null, t0);
        return ws.xb;
    }

    private static void add(float[] x, float[] y, int len) {
        for (int i = 0; i < len; i++) {
            x[i] += y[i];
        }
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
