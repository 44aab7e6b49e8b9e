package io.github.chatglm4j.server;

import io.github.chatglm4j.generate.StepModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link StepModel} whose logits force a scripted reply: the script sees the prompt (everything fed by prefill)
 * and how many tokens were generated, and names the next token. Behind the real {@code BatchScheduler}, this drives
 * tool calls and other paths that the random-weight fixture models never take. It can hold every model call at a
 * gate, so a test can fill the slots and the queue deterministically.
 */
final class ScriptedModel implements StepModel {
    /** The next token after {@code generated} tokens of the reply to {@code prompt}. */
    @FunctionalInterface
    interface Script {
        int next(int[] prompt, int generated);
    }

    /** Logit of the scripted token; every other token has 0, so even hot sampling picks the scripted one. */
    private static final float FORCE = 100f;

    private final int contextSize;
    private final Script script;
    final AtomicLong decodeSteps = new AtomicLong();
    final AtomicLong tokensFed = new AtomicLong();
    private volatile CountDownLatch gate;
    private final CountDownLatch entered = new CountDownLatch(1);

    ScriptedModel(int contextSize, Script script) {
        this.contextSize = contextSize;
        this.script = script;
    }

    /** A script that answers every prompt with these ids, then end of text. */
    static Script fixed(int[] reply) {
        return (prompt, generated) -> generated < reply.length ? reply[generated] : ChatGLMTokenizer.EOS;
    }

    /** Holds every model call until {@link #open()}; {@link #awaitEntered()} returns once a call is held. */
    void close() {
        gate = new CountDownLatch(1);
    }

    void open() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    void awaitEntered() throws InterruptedException {
        entered.await();
    }

    @Override
    public int contextSize() {
        return contextSize;
    }

    @Override
    public Slot newSlot() {
        return new ScriptSlot();
    }

    @Override
    public float[] prefill(Slot slot, int[] tokens) {
        pass();
        ScriptSlot s = (ScriptSlot) slot;
        s.feed(tokens);
        s.replyStart = s.length;
        return s.logits();
    }

    @Override
    public float[][] decode(Slot[] slots, int[] tokens) {
        pass();
        decodeSteps.incrementAndGet();
        float[][] out = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            ScriptSlot s = (ScriptSlot) slots[i];
            s.feed(new int[]{tokens[i]});
            out[i] = s.logits();
        }
        return out;
    }

    private void pass() {
        CountDownLatch g = gate;
        if (g != null) {
            entered.countDown();
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private final class ScriptSlot implements Slot {
        private int[] tokens = new int[256];
        private int length;
        private int replyStart;

        void feed(int[] ids) {
            if (length + ids.length > contextSize) {
                throw new IllegalStateException("slot overflow: " + (length + ids.length) + " > " + contextSize);
            }
            if (length + ids.length > tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + ids.length));
            }
            System.arraycopy(ids, 0, tokens, length, ids.length);
            length += ids.length;
            tokensFed.addAndGet(ids.length);
        }

        float[] logits() {
            float[] logits = new float[ChatGLMTokenizer.VOCAB_SIZE];
            logits[script.next(Arrays.copyOf(tokens, replyStart), length - replyStart)] = FORCE;
            return logits;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public void truncate(int length) {
            this.length = Math.min(this.length, length);
            this.replyStart = Math.min(replyStart, this.length);
        }
    }
}
