package io.github.chatglm4j.model;

import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.util.Objects;

/**
 * Keys and values of every processed position, per layer. ChatGLM3 shares each K/V head between
 * {@code numHeads / kvGroups} query heads, so a position holds only {@code kvGroups × headDim} keys and as many
 * values per layer: 28 KiB per token for chatglm3-6b in F16 (3.5 GiB at 128K tokens), 16 KiB in Q8_0, 56 KiB
 * in F32. Storage is native memory that grows on demand up to the capacity, so a short chat does not reserve a
 * 128K-token cache; it is freed when the cache becomes unreachable.
 *
 * <p>A cache is used by one thread at a time (the model's pool reads it during a pass).
 */
public final class KvCache {
    private static final Cleaner CLEANER = Cleaner.create();

    private final KvType type;
    private final int numLayers;
    private final int kvSize;
    private final int capacity;
    private final KvPlane[] keys;
    private final KvPlane[] values;
    private final Memory memory = new Memory();
    private int allocated;
    private int length;

    /** A cache for up to {@code capacity} positions of a model with this config, storing {@code type}. */
    public KvCache(ChatGLMConfig config, int capacity, KvType type) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.type = Objects.requireNonNull(type, "type");
        this.numLayers = config.numLayers();
        this.kvSize = config.kvSize();
        this.capacity = capacity;
        this.keys = new KvPlane[numLayers];
        this.values = new KvPlane[numLayers];
        CLEANER.register(this, memory);
    }

    public KvType type() {
        return type;
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
        return 2L * numLayers * allocated * type.rowBytes(kvSize);
    }

    /** Bytes the cache would use when full. */
    public long bytesAtCapacity() {
        return 2L * numLayers * capacity * type.rowBytes(kvSize);
    }

    int kvSize() {
        return kvSize;
    }

    KvPlane keys(int layer) {
        return keys[layer];
    }

    KvPlane values(int layer) {
        return values[layer];
    }

    /** Writes the keys {@code src[kOff …]} and values {@code src[vOff …]} of position {@code pos} in a layer. */
    void store(int layer, int pos, float[] src, int kOff, int vOff) {
        Objects.checkIndex(pos, allocated);
        keys[layer].store(pos, src, kOff);
        values[layer].store(pos, src, vOff);
    }

    /** Makes room for {@code n} more positions; called before a forward pass writes them. */
    void reserve(int n) {
        long need = (long) length + n;
        if (need > capacity) {
            throw new IllegalStateException("context full: " + length + " + " + n + " positions exceed the capacity of " + capacity);
        }
        if (need > allocated) {
            int grown = (int) Math.min(capacity, Math.max(need, Math.max(256L, 2L * allocated)));
            Arena arena = Arena.ofShared();
            KvPlane[] k = new KvPlane[numLayers];
            KvPlane[] v = new KvPlane[numLayers];
            try {
                for (int l = 0; l < numLayers; l++) {
                    k[l] = KvPlane.allocate(arena, type, kvSize, grown);
                    v[l] = KvPlane.allocate(arena, type, kvSize, grown);
                    if (keys[l] != null) {
                        k[l].copyRows(keys[l], length);
                        v[l].copyRows(values[l], length);
                    }
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                arena.close();
                throw e;
            }
            System.arraycopy(k, 0, keys, 0, numLayers);
            System.arraycopy(v, 0, values, 0, numLayers);
            memory.replace(arena);
            allocated = grown;
        }
    }

    void advance(int n) {
        length += n;
    }

    /** Owns the current native arena; closed on growth and, through the cleaner, when the cache is unreachable. */
    private static final class Memory implements Runnable {
        private Arena arena;

        synchronized void replace(Arena next) {
            if (arena != null) {
                arena.close();
            }
            arena = next;
        }

        @Override
        public synchronized void run() {
            replace(null);
        }
    }
}
