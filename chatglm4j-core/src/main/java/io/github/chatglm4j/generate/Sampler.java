package io.github.chatglm4j.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits, in transformers' order: invalid-score guard, repetition penalty, OpenAI
 * presence/frequency penalties, then greedy argmax or temperature → top-k → top-p → multinomial draw.
 * One sampler per sequence: it owns the random stream that makes a seeded run reproducible.
 */
public final class Sampler {
    /** ChatGLM's InvalidScoreLogitsProcessor forces this token when the logits contain NaN or Inf. */
    static final int INVALID_SCORE_TOKEN = 5;

    private final SamplingParams params;
    private final SplittableRandom random;

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
        if (rp != 1f) {
            boolean[] seen = new boolean[logits.length];
            for (int i = 0; i < contextLength; i++) {
                int id = context[i];
                if (id >= 0 && id < logits.length && !seen[id]) {
                    seen[id] = true;
                    logits[id] = logits[id] < 0 ? logits[id] * rp : logits[id] / rp;
                }
            }
        }
        if (params.presencePenalty() != 0f || params.frequencyPenalty() != 0f) {
            int[] counts = new int[logits.length];
            for (int i = promptLength; i < contextLength; i++) {
                int id = context[i];
                if (id >= 0 && id < logits.length) {
                    counts[id]++;
                }
            }
            for (int id = 0; id < counts.length; id++) {
                if (counts[id] > 0) {
                    logits[id] -= params.frequencyPenalty() * counts[id] + params.presencePenalty();
                }
            }
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
        float invT = 1f / params.temperature();
        int n = logits.length;
        // Candidates after top-k, as indices; ties with the k-th value stay in, as in transformers.
        int[] candidates;
        if (params.topK() > 0 && params.topK() < n) {
            float kth = kthLargest(logits, params.topK());
            int count = 0;
            for (float v : logits) {
                if (v >= kth) {
                    count++;
                }
            }
            candidates = new int[count];
            int j = 0;
            for (int i = 0; i < n; i++) {
                if (logits[i] >= kth) {
                    candidates[j++] = i;
                }
            }
        } else {
            candidates = new int[n];
            for (int i = 0; i < n; i++) {
                candidates[i] = i;
            }
        }
        // Sort by descending logit (stable by id) and keep the smallest prefix whose mass reaches top_p.
        Integer[] order = new Integer[candidates.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = candidates[i];
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        double max = logits[order[0]] * (double) invT;
        double[] weights = new double[order.length];
        double total = 0;
        for (int i = 0; i < order.length; i++) {
            weights[i] = Math.exp(logits[order[i]] * (double) invT - max);
            total += weights[i];
        }
        int keep = order.length;
        if (params.topP() < 1f) {
            // transformers removes tokens whose ascending cumulative probability is <= 1 - top_p; equivalently,
            // in descending order keep every token whose preceding mass is < top_p.
            double cumulative = 0;
            for (int i = 0; i < order.length; i++) {
                if (i > 0 && cumulative / total >= params.topP()) {
                    keep = i;
                    break;
                }
                cumulative += weights[i];
            }
        }
        double mass = 0;
        for (int i = 0; i < keep; i++) {
            mass += weights[i];
        }
        double r = random.nextDouble() * mass;
        for (int i = 0; i < keep; i++) {
            r -= weights[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    private static float kthLargest(float[] logits, int k) {
        float[] copy = logits.clone();
        Arrays.sort(copy);
        return copy[copy.length - k];
    }
}
