package io.github.chatglm4j.model;

import java.util.Arrays;

/**
 * Keys and values of every processed position, per layer. ChatGLM3 shares each K/V head between
 * {@code numHeads / kvGroups} query heads, so a position holds only {@code kvGroups × headDim} keys and as many
 * values per layer (28 KiB per token for chatglm3-6b in F16, 56 KiB here in F32). Storage grows on demand up to
 * the capacity, so a short chat does not reserve a 128K-token cache.
 */
public final class KvCache {
    private final int numLayers;
    private final int kvSize;
    private final int capacity;
    private final float[][] keys;
    private final float[][] values;
    private int allocated;
    private int length;

    /** A cache for up to {@code capacity} positions of a model with this config. */
    public KvCache(ChatGLMConfig config, int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.numLayers = config.numLayers();
        this.kvSize = config.kvSize();
        this.capacity = capacity;
        this.keys = new float[numLayers][];
        this.values = new float[numLayers][];
        for (int l = 0; l < numLayers; l++) {
            keys[l] = new float[0];
            values[l] = new float[0];
        }
    }

    /** Positions currently held. */
    public int length() {
        return length;
    }

    /** The most positions this cache may hold. */
    public int capacity() {
        return capacity;
    }

    /** Forgets every position from {@code newLength} on (prefix reuse keeps the rest). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    /** Bytes currently reserved for keys and values. */
    public long bytesReserved() {
        return 2L * numLayers * allocated * kvSize * Float.BYTES;
    }

    /** Bytes the cache would use when full. */
    public long bytesAtCapacity() {
        return 2L * numLayers * capacity * kvSize * Float.BYTES;
    }

    int kvSize() {
        return kvSize;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Makes room for {@code n} more positions; called before a forward pass writes them. */
    void reserve(int n) {
        int need = length + n;
        if (need > capacity) {
            throw new IllegalStateException("context full: " + length + " + " + n + " positions exceed the capacity of " + capacity);
        }
        if (need > allocated) {
            int grown = (int) Math.min(capacity, Math.max(need, Math.max(256L, 2L * allocated)));
            for (int l = 0; l < numLayers; l++) {
                keys[l] = Arrays.copyOf(keys[l], grown * kvSize);
                values[l] = Arrays.copyOf(values[l], grown * kvSize);
            }
            allocated = grown;
        }
    }

    void advance(int n) {
        length += n;
    }
}
