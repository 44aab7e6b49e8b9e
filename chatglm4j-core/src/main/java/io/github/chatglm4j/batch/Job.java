package io.github.chatglm4j.batch;

import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.Sampler;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import io.github.chatglm4j.tokenizer.StreamingDecoder;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/** One request inside the scheduler: its prompt, sampler, generated ids and text so far. */
final class Job implements Ticket {
    final int[] prompt;
    private final BatchRequest request;
    private final TokenListener listener;
    private final StreamingDecoder decoder;
    private final StringBuilder text = new StringBuilder();
    private final CompletableFuture<Generation> result = new CompletableFuture<>();
    private volatile boolean cancelled;
    final Sampler sampler;
    final long submitted = System.nanoTime();
    /** Prompt then generated ids, for the penalties. */
    int[] context;
    int contextLength;
    int generated;
    int computed;
    long prefillNanos;
    long decodeNanos;

    Job(int[] prompt, BatchRequest request, TokenListener listener, ChatGLMTokenizer tokenizer) {
        this.prompt = prompt;
        this.request = request;
        this.listener = listener;
        this.decoder = tokenizer.newStreamingDecoder();
        this.sampler = new Sampler(request.options().sampling());
        this.context = Arrays.copyOf(prompt, prompt.length + 64);
        this.contextLength = prompt.length;
    }

    GenerationOptions options() {
        return request.options();
    }

    boolean isCancelled() {
        return cancelled || request.options().cancelled().getAsBoolean();
    }

    void append(int id) {
        if (contextLength == context.length) {
            context = Arrays.copyOf(context, context.length * 2);
        }
        context[contextLength++] = id;
        generated++;
    }

    void emit(int id) {
        String piece = decoder.push(id);
        text.append(piece);
        listener.onToken(id, piece);
    }

    void finish(FinishReason reason, int stopId) {
        if (result.isDone()) {
            return;
        }
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            text.append(rest);
            try {
                listener.onToken(-1, rest);
            } catch (RuntimeException ignored) {
                // the consumer is gone; the result still completes
            }
        }
        result.complete(new Generation(prompt.length, computed, Arrays.copyOfRange(context, prompt.length, contextLength),
                text.toString(), reason, stopId, prefillNanos, decodeNanos));
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
