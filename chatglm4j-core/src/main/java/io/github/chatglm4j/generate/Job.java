package io.github.chatglm4j.generate;

import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import io.github.chatglm4j.tokenizer.StreamingDecoder;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * One request inside the scheduler: its prompt, sampler, the ids and text generated so far, and every end condition
 * of {@link GenerationOptions}. All of it runs on the scheduler thread; only {@link #cancel} comes from outside.
 */
final class Job implements Ticket {
    final int[] prompt;
    private final GenerationOptions options;
    private final TokenListener listener;
    private final StreamingDecoder decoder;
    private final StopStrings stops;
    private final StringBuilder text = new StringBuilder();
    private final CompletableFuture<Generation> result = new CompletableFuture<>();
    private volatile boolean cancelled;
    final Sampler sampler;
    final long submitted = System.nanoTime();
    /** Prompt then generated ids, for the penalties. */
    private int[] context;
    private int contextLength;
    int computed;
    long prefillNanos;
    long decodeNanos;
    /** Why the job ends, once {@link #advance} has returned -1 (the scheduler then calls {@link #finish}). */
    FinishReason ending;
    int endingStopId = -1;

    Job(BatchRequest request, TokenListener listener, ChatGLMTokenizer tokenizer) {
        this.prompt = request.prompt();
        this.options = request.options();
        this.listener = listener;
        this.decoder = tokenizer.newStreamingDecoder();
        this.stops = new StopStrings(options.stopStrings());
        this.sampler = new Sampler(options.sampling());
        this.context = Arrays.copyOf(prompt, prompt.length + 64);
        this.contextLength = prompt.length;
    }

    int generated() {
        return contextLength - prompt.length;
    }

    boolean isCancelled() {
        return cancelled || options.cancelled().getAsBoolean();
    }

    /**
     * Samples the next token from {@code logits}, streams its text, and decides whether generation goes on.
     *
     * @param contextSize the most tokens the sequence can hold
     * @return the token to feed next, or -1 if the job ends: {@link #ending} says why, and the scheduler completes
     *         the result with {@link #finish} after its own bookkeeping
     */
    int advance(float[] logits, int contextSize) {
        if (isCancelled()) {
            return end(FinishReason.CANCELLED, -1);
        }
        int id = sampler.sample(logits, context, contextLength, prompt.length);
        if (options.isStop(id)) {
            return end(FinishReason.STOP, id);
        }
        if (contextLength == context.length) {
            context = Arrays.copyOf(context, context.length * 2);
        }
        context[contextLength++] = id;
        String piece = stops.push(decoder.push(id));
        text.append(piece);
        try {
            listener.onToken(id, piece);
        } catch (RuntimeException e) {
            cancelled = true; // the listener's consumer is gone (e.g. the client disconnected)
            return end(FinishReason.CANCELLED, -1);
        }
        if (stops.stopped()) {
            return end(FinishReason.STOP, -1);
        }
        if (generated() >= options.maxNewTokens() || contextLength >= contextSize) {
            return end(FinishReason.LENGTH, -1);
        }
        return id;
    }

    private int end(FinishReason reason, int stopId) {
        ending = reason;
        endingStopId = stopId;
        return -1;
    }

    /** Completes the result (once): flushes held-back text unless a stop string cut it. */
    void finish(FinishReason reason, int stopId) {
        if (result.isDone()) {
            return;
        }
        String rest = stops.push(decoder.flush());
        if (!stops.stopped()) {
            rest += stops.flush();
        }
        if (!rest.isEmpty()) {
            text.append(rest);
            try {
                listener.onToken(-1, rest);
            } catch (RuntimeException ignored) {
                // the consumer is gone; the result still completes
            }
        }
        result.complete(new Generation(prompt.length, computed, Arrays.copyOfRange(context, prompt.length, contextLength),
                text.toString(), reason, stopId, stops.matched(), prefillNanos, decodeNanos));
    }

    void fail(Throwable e) {
        result.completeExceptionally(e);
    }

    @Override
    public CompletableFuture<Generation> result() {
        return result;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }
}
