package io.github.chatglm4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link StepModel} whose next token is a fixed function of the tokens a slot holds ({@code next.after(tokens)}),
 * as one-hot logits. It records decode batch sizes and prefilled tokens so tests can check batching and prefix
 * reuse, and can hold every step on a latch so that a test controls exactly when the model advances.
 */
final class ScriptedStepModel implements StepModel {
    interface NextToken {
        int after(int[] tokens);
    }

    private final int contextSize;
    private final int vocab;
    private final NextToken next;
    final List<Integer> decodeBatchSizes = new ArrayList<>();
    final AtomicInteger prefillTokens = new AtomicInteger();
    volatile CountDownLatch gate;
    /** Counted down whenever a model call reaches the gate (so a test knows the scheduler thread is held there). */
    volatile CountDownLatch entered;

    ScriptedStepModel(int contextSize, int vocab, NextToken next) {
        this.contextSize = contextSize;
        this.vocab = vocab;
        this.next = next;
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public Slot newSlot() {
        return new Held();
    }

    @Override
    public float[] prefill(Slot slot, int[] tokens) {
        await();
        prefillTokens.addAndGet(tokens.length);
        Held h = (Held) slot;
        for (int t : tokens) {
            h.add(t);
        }
        return oneHot(next.after(h.tokens()));
    }

    @Override
    public synchronized float[][] decode(Slot[] slots, int[] tokens) {
        await();
        decodeBatchSizes.add(slots.length);
        float[][] out = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            Held h = (Held) slots[i];
            h.add(tokens[i]);
            out[i] = oneHot(next.after(h.tokens()));
        }
        return out;
    }

    private void await() {
        CountDownLatch in = entered;
        if (in != null) {
            in.countDown();
        }
        CountDownLatch g = gate;
        if (g != null) {
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private float[] oneHot(int id) {
        float[] logits = new float[vocab];
        logits[id] = 100f;
        return logits;
    }

    static final class Held implements Slot {
        private int[] tokens = new int[16];
        private int length;

        void add(int t) {
            if (length == tokens.length) {
                tokens = Arrays.copyOf(tokens, 2 * length);
            }
            tokens[length++] = t;
        }

        int[] tokens() {
            return Arrays.copyOf(tokens, length);
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public void truncate(int n) {
            length = n;
        }
    }
}
