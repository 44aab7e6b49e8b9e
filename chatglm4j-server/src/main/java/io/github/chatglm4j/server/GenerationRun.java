package io.github.chatglm4j.server;

import io.github.chatglm4j.generate.BatchRequest;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationFailedException;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.QueueFullException;
import io.github.chatglm4j.generate.Ticket;
import io.github.chatglm4j.generate.TokenStream;

import java.io.IOException;
import java.io.Serial;
import java.util.Set;

/**
 * One request in the engine's scheduler, seen from its HTTP handler thread: the text comes through a
 * {@link TokenStream} (every end condition, stop strings included, is decided on the scheduler thread), and a failed
 * write (the client went away) cancels the request at once, which frees its slot at the scheduler's next step.
 */
final class GenerationRun {
    /** Receives generated text, already cut at a stop string. */
    @FunctionalInterface
    interface TextSink {
        void accept(String text) throws IOException;
    }

    /** Called when nothing arrived for a while (a streaming client gets a keep-alive line, which also shows whether it is still there). */
    @FunctionalInterface
    interface Idle {
        void tick() throws IOException;
    }

    /** The model failed while generating (a server fault, not the client's). */
    static final class Failed extends Exception {
        @Serial
        private static final long serialVersionUID = 1L;

        Failed(Throwable cause) {
            super(cause);
        }
    }

    private final TokenStream stream;

    private GenerationRun(TokenStream stream) {
        this.stream = stream;
    }

    /**
     * Submits a request; a full queue and a prompt longer than the context become the matching API errors.
     *
     * @param active      the server's running tickets, cancelled when it stops
     * @param promptParam the request field holding the prompt ({@code messages} or {@code prompt}), for errors
     * @param ex          the request's exchange: when its client leaves (even while queued, or on a request that
     *                    is not streamed), the generation is cancelled at once
     */
    static GenerationRun submit(Backend backend, int[] prompt, GenerationOptions options, Set<Ticket> active, Metrics metrics,
                                String promptParam, Exchange ex) {
        TokenStream stream;
        try {
            stream = TokenStream.submit(backend.scheduler(), new BatchRequest(prompt, options));
        } catch (QueueFullException e) {
            metrics.rejected();
            throw ErrorResponses.busy(e);
        } catch (ContextOverflowException e) {
            throw ErrorResponses.contextOverflow(e, promptParam);
        }
        Ticket ticket = stream.ticket();
        active.add(ticket);
        ticket.result().whenComplete((g, e) -> active.remove(ticket));
        ex.onClientGone(() -> {
            metrics.clientGone();
            ticket.cancel();
        });
        return new GenerationRun(stream);
    }

    /**
     * Passes the generated text to {@code sink} as it comes and returns the generation when it ends. If the sink
     * throws (the client is gone), the request is cancelled before the exception propagates.
     */
    Generation await(TextSink sink) throws IOException, Failed {
        return await(sink, null, 0);
    }

    /** As {@link #await(TextSink)}, calling {@code idle} whenever {@code idleNanos} pass without an event. */
    Generation await(TextSink sink, Idle idle, long idleNanos) throws IOException, Failed {
        try {
            return stream.drain((id, text) -> {
                if (!text.isEmpty()) {
                    sink.accept(text);
                }
            }, idle == null ? null : idle::tick, idleNanos);
        } catch (GenerationFailedException e) {
            throw new Failed(e.getCause());
        }
    }

    /** Whether the generation was cancelled (client gone, server stopping); counts it as such if so. */
    boolean cancelled(Generation g, Metrics metrics) {
        if (g.finishReason() == FinishReason.CANCELLED) {
            metrics.finished("cancelled");
            return true;
        }
        return false;
    }

    void cancel() {
        stream.ticket().cancel();
    }

    /** The budget for the reply: what was asked for, or the rest of the context; an impossible ask is a 400. */
    static int maxTokens(int promptTokens, Integer requested, int contextSize, String param, String promptParam) {
        if (promptTokens >= contextSize) {
            throw ErrorResponses.contextOverflow(promptTokens, contextSize, promptParam);
        }
        int room = contextSize - promptTokens;
        if (requested == null) {
            return room;
        }
        if (requested > room) {
            throw ErrorResponses.tooManyTokens(promptTokens, requested, contextSize, param);
        }
        return requested;
    }
}
