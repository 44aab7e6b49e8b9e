package io.github.chatglm4j.generate;

import java.util.Arrays;

/**
 * A model slot and the scheduler's view of it: the ids it holds (kept after a request ends, for prefix reuse), the
 * job using it, how much of that job's prompt is computed, and the sampled token waiting to be fed.
 */
final class Slot {
    final StepModel.Slot state;
    /** Read by monitoring and admission threads; written by the scheduler thread. */
    volatile Job job;
    long lastUsed;
    /** The sampled token to feed at the next decode step, or -1. */
    int pending = -1;
    private int[] tokens = new int[256];
    private int length;
    private int promptDone;

    Slot(StepModel.Slot state) {
        this.state = state;
    }

    int commonPrefix(int[] prompt) {
        int max = Math.min(length, prompt.length);
        int n = 0;
        while (n < max && tokens[n] == prompt[n]) {
            n++;
        }
        return n;
    }

    /**
     * Takes {@code job}, keeping the longest shared prefix; at least the last prompt token is recomputed for its
     * logits. Returns how many prompt tokens were reused.
     */
    int assign(Job job) {
        int keep = Math.min(commonPrefix(job.prompt), job.prompt.length - 1);
        state.truncate(keep);
        length = keep;
        promptDone = keep;
        pending = -1;
        job.computed = job.prompt.length - keep;
        this.job = job;
        return keep;
    }

    boolean prefilling() {
        return job != null && promptDone < job.prompt.length;
    }

    int promptRemaining() {
        return job.prompt.length - promptDone;
    }

    /** Feeds the next prompt chunk; returns the logits after the prompt once it is complete, else null. */
    float[] prefillChunk(StepModel model, int chunk) {
        int[] prompt = job.prompt;
        int end = Math.min(prompt.length, promptDone + chunk);
        float[] logits = model.prefill(state, Arrays.copyOfRange(prompt, promptDone, end));
        for (int i = promptDone; i < end; i++) {
            record(prompt[i]);
        }
        promptDone = end;
        return end == prompt.length ? logits : null;
    }

    /** A decode step fed {@code id}. */
    void fed(int id) {
        record(id);
    }

    /** Ends the slot's job (its tokens stay for prefix reuse). */
    void release() {
        job = null;
        pending = -1;
        lastUsed = System.nanoTime();
    }

    /** Forgets everything (after a failure the cache contents are unknown). */
    void reset() {
        release();
        state.truncate(0);
        length = 0;
        promptDone = 0;
    }

    private void record(int id) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = id;
    }
}
