package io.github.chatglm4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits, in transformers' order: invalid-score guard, repetition penalty, OpenAI
 * presence/frequency penalties, then greedy argmax or temperature → top-k → top-p → multinomial draw.
 * One sampler per sequence: it owns the random stream that makes a seeded run reproducible, and scratch arrays
 * reused from token to token (a step allocates nothing).
 */
public final class Sampler {
    /** ChatGLM's InvalidScoreLogitsProcessor forces this token when the logits contain NaN or Inf. */
    static final int INVALID_SCORE_TOKEN = 5;

    private final SamplingParams params;
    private final SplittableRandom random;
    private float[] select = new float[0];
    /** Candidates as (descending logit, ascending id) sort keys, arranged as a max-heap. */
    private long[] heap = new long[0];
    private double[] weights = new double[0];
    private int[] order = new int[0];
    private int[] counts = new int[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Chooses a token. {@code logits} is modified.
     *
     * @param context       every id in the sequence so far (prompt, then generated), for the repetition penalty
     * @param contextLength ids used in {@code context}
     * @param promptLength  how many of them are the prompt; the rest count for presence/frequency penalties
     */
    public int sample(float[] logits, int[] context, int contextLength, int promptLength) {
        guardInvalid(logits);
        applyPenalties(logits, context, contextLength, promptLength);
        if (params.isGreedy()) {
            return argmax(logits);
        }
        return draw(logits);
    }

    private static void guardInvalid(float[] logits) {
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                Arrays.fill(logits, 0f);
                logits[INVALID_SCORE_TOKEN] = 5e4f;
                return;
            }
        }
    }

    private void applyPenalties(float[] logits, int[] context, int contextLength, int promptLength) {
        float rp = params.repetitionPenalty();
        boolean counted = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        if (rp == 1f && !counted) {
            return;
        }
        if (counts.length < logits.length) {
            counts = new int[logits.length];
        }
        // counts[id]: bit 0 = already penalized for repetition, the rest = occurrences among generated tokens
        for (int i = 0; i < contextLength; i++) {
            int id = context[i];
            if (id < 0 || id >= logits.length) {
                continue;
            }
            if (rp != 1f && (counts[id] & 1) == 0) {
                counts[id] |= 1;
                logits[id] = logits[id] < 0 ? logits[id] * rp : logits[id] / rp;
            }
            if (counted && i >= promptLength) {
                counts[id] += 2;
            }
        }
        for (int i = 0; i < contextLength; i++) {
            int id = context[i];
            if (id < 0 || id >= logits.length || counts[id] == 0) {
                continue;
            }
            int occurrences = counts[id] >>> 1;
            if (occurrences > 0) {
                logits[id] -= params.frequencyPenalty() * occurrences + params.presencePenalty();
            }
            counts[id] = 0;
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private int draw(float[] logits) {
        int n = logits.length;
        // Candidates after top-k; ties with the k-th value stay in, as in transformers.
        int k = params.topK() > 0 && params.topK() < n ? params.topK() : n;
        float kth = k < n ? kthLargest(logits, k) : Float.NEGATIVE_INFINITY;
        if (heap.length < n) {
            heap = new long[n];
            weights = new double[n];
            order = new int[n];
        }
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (logits[i] >= kth) {
                heap[size++] = key(logits[i], i);
            }
        }
        // Descending logit, ascending id on ties; the nucleus is usually a few dozen tokens, so a heap yields them
        // in order without sorting all candidates.
        double invT = 1.0 / params.temperature();
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(heap, i, size);
        }
        double max = logits[id(heap[0])] * invT;
        double total = 0;
        for (int i = 0; i < size; i++) {
            total += Math.exp(logits[id(heap[i])] * invT - max);
        }
        // transformers removes tokens whose ascending cumulative probability is <= 1 - top_p; equivalently, in
        // descending order keep every token whose preceding mass is < top_p.
        double limit = params.topP() < 1f ? params.topP() * total : Double.POSITIVE_INFINITY;
        double mass = 0;
        int kept = 0;
        int remaining = size;
        while (remaining > 0 && (kept == 0 || mass < limit)) {
            int id = id(heap[0]);
            heap[0] = heap[--remaining];
            siftDown(heap, 0, remaining);
            double w = Math.exp(logits[id] * invT - max);
            order[kept] = id;
            weights[kept++] = w;
            mass += w;
        }
        double r = random.nextDouble() * mass;
        for (int i = 0; i < kept; i++) {
            r -= weights[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    /** A long that orders by descending logit, then ascending id. */
    private static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int sortable = bits ^ ((bits >> 31) & 0x7FFF_FFFF);
        return ((long) ~sortable << 32) | id;
    }

    private static int id(long key) {
        return (int) key;
    }

    /** Min-heap on the keys (= max-heap on logits). */
    private static void siftDown(long[] h, int i, int size) {
        long v = h[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                break;
            }
            if (c + 1 < size && h[c + 1] < h[c]) {
                c++;
            }
            if (h[c] >= v) {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
    }

    /** The k-th largest logit by quickselect on a reused copy (O(n), not a full sort). */
    private float kthLargest(float[] logits, int k) {
        int n = logits.length;
        if (select.length < n) {
            select = new float[n];
        }
        float[] a = select;
        System.arraycopy(logits, 0, a, 0, n);
        int target = n - k;   // index of the k-th largest in ascending order
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            float pivot = median(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return a[target];
            }
        }
        return a[target];
    }

    private static float median(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
