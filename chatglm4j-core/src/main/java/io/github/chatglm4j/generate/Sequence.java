package io.github.chatglm4j.generate;

import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;

import java.util.Arrays;

/**
 * One token sequence being processed by the model: the ids fed so far and their KV cache. Feeding a new full
 * sequence reuses the longest prefix already in the cache, so the next turn of a conversation only computes
 * its new tokens.
 */
public final class Sequence {
    private final ChatGLMModel model;
    private final KvCache cache;
    private int[] tokens = new int[64];
    private int length;
    private int lastComputed;

    public Sequence(ChatGLMModel model, int contextSize) {
        this.model = model;
        this.cache = model.newCache(contextSize);
    }

    /** The most tokens this sequence can hold. */
    public int contextSize() {
        return cache.capacity();
    }

    /** Tokens in the cache. */
    public int length() {
        return length;
    }

    /** A copy of the ids in the cache. */
    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    /** The cache, e.g. to report its memory. */
    public KvCache cache() {
        return cache;
    }

    /** Tokens that the last {@link #prefill} actually computed (the rest came from the cache). */
    public int lastComputed() {
        return lastComputed;
    }

    /**
     * Makes the sequence equal {@code ids}, computing only what is not already cached, and returns the logits
     * after the last id.
     */
    public float[] prefill(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        if (ids.length > contextSize()) {
            throw new ContextOverflowException(ids.length, contextSize());
        }
        int common = 0;
        int max = Math.min(length, ids.length);
        while (common < max && tokens[common] == ids[common]) {
            common++;
        }
        if (common == ids.length) {
            common--; // the last id must be recomputed to get its logits
        }
        cache.truncate(common);
        length = common;
        int[] rest = Arrays.copyOfRange(ids, common, ids.length);
        lastComputed = rest.length;
        return feed(rest);
    }

    /** Appends one generated token and returns the logits after it. */
    public float[] append(int id) {
        return feed(new int[]{id});
    }

    /** Empties the sequence. */
    public void reset() {
        cache.truncate(0);
        length = 0;
    }

    private float[] feed(int[] ids) {
        float[] hidden = model.feed(cache, ids);
        if (length + ids.length > tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + ids.length));
        }
        System.arraycopy(ids, 0, tokens, length, ids.length);
        length += ids.length;
        return model.logits(hidden, 0);
    }
}
