package io.github.chatglm4j.testing;

import io.github.chatglm4j.generate.StepModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link StepModel} whose logits force a scripted token, behind the real scheduler: it drives tool calls, stop
 * strings and other paths that the random-weight fixture models never take. The script sees what a slot holds and
 * names the next token. Every model call can be held at a gate, so a test decides exactly when the model advances
 * (fill the slots and the queue, cancel mid-prompt) without sleeping; counters show what the scheduler asked for.
 */
public final class ScriptedModel implements StepModel {
    /** The next token from the tokens a slot holds; {@code promptLength} of them came from the request's prompt. */
    @FunctionalInterface
    public interface Script {
        int next(int[] held, int promptLength);
    }

    /** The next token after {@code generated} tokens of the reply to {@code prompt}. */
    @FunctionalInterface
    public interface ReplyScript {
        int next(int[] prompt, int generated);
    }

    /** Logit of the scripted token; every other token has 0, so even hot sampling picks the scripted one. */
    private static final float FORCE = 100f;

    private final int contextSize;
    private final int vocab;
    private final Script script;
    /** Decode steps run. */
    public final AtomicLong decodeSteps = new AtomicLong();
    /** Tokens fed by prompt passes and decode steps together. */
    public final AtomicLong tokensFed = new AtomicLong();
    /** Tokens fed by prompt passes. */
    public final AtomicLong prefillTokens = new AtomicLong();
    /** The batch size of every decode step, in order. */
    public final List<Integer> decodeBatchSizes = Collections.synchronizedList(new ArrayList<>());
    private final Gate gate = new Gate();

    public ScriptedModel(int contextSize, int vocab, Script script) {
        this.contextSize = contextSize;
        this.vocab = vocab;
        this.script = script;
    }

    /** A model over ChatGLM3's vocabulary that answers every prompt as {@code script} says. */
    public static ScriptedModel replying(int contextSize, ReplyScript script) {
        return new ScriptedModel(contextSize, ChatGLMTokenizer.VOCAB_SIZE,
                (held, promptLength) -> script.next(Arrays.copyOf(held, promptLength), held.length - promptLength));
    }

    /** A script that answers every prompt with these ids, then end of text. */
    public static ReplyScript fixed(int[] reply) {
        return (prompt, generated) -> generated < reply.length ? reply[generated] : ChatGLMTokenizer.EOS;
    }

    /** Holds every model call at a gate until {@link #release()}. */
    public void hold() {
        gate.hold();
    }

    /** Lets held calls (and later ones) through. */
    public void release() {
        gate.release();
    }

    /** Returns once a model call is waiting at the gate set by {@link #hold()}. */
    public void awaitHeld() throws InterruptedException {
        gate.awaitHeld();
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
        gate.pass();
        Held h = (Held) slot;
        h.feed(tokens);
        prefillTokens.addAndGet(tokens.length);
        h.promptLength = h.length;
        return h.logits();
    }

    @Override
    public float[][] decode(Slot[] slots, int[] tokens) {
        gate.pass();
        decodeSteps.incrementAndGet();
        decodeBatchSizes.add(slots.length);
        float[][] out = new float[slots.length][];
        for (int i = 0; i < slots.length; i++) {
            Held h = (Held) slots[i];
            h.feed(new int[]{tokens[i]});
            out[i] = h.logits();
        }
        return out;
    }

    private final class Held implements Slot {
        private int[] tokens = new int[256];
        private int length;
        private int promptLength;

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
            float[] logits = new float[vocab];
            logits[script.next(Arrays.copyOf(tokens, length), promptLength)] = FORCE;
            return logits;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public void truncate(int length) {
            this.length = Math.min(this.length, length);
            this.promptLength = Math.min(promptLength, this.length);
        }
    }
}
