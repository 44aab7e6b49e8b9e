package io.github.chatglm4j.server;

import io.github.chatglm4j.batch.BatchRequest;
import io.github.chatglm4j.batch.QueueFullException;
import io.github.chatglm4j.batch.Ticket;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.TokenListener;

import java.io.IOException;
import java.io.Serial;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request inside the scheduler, seen from its HTTP handler thread. The scheduler thread only appends decoded
 * text to a queue (it must never wait for a client); the handler thread takes it from there, cuts it at stop
 * strings, and writes. A failed write (the client went away) or a stop string cancels the ticket at once, which
 * frees the slot at the scheduler's next step.
 */
final class GenerationRun implements TokenListener {
    /** Receives text that is certainly before any stop string. */
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

    private record End(Generation generation, Throwable failure) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final StopScanner scanner;
    private final Set<Ticket> active;
    private Ticket ticket;

    private GenerationRun(List<String> stops, Set<Ticket> active) {
        this.scanner = new StopScanner(stops);
        this.active = active;
    }

    /**
     * Submits a request; a full queue and a prompt longer than the context become the matching API errors.
     *
     * @param active the server's running tickets, cancelled when it stops
     */
    static GenerationRun submit(Backend backend, int[] prompt, GenerationOptions options, List<String> stops,
                                Set<Ticket> active, Metrics metrics) {
        var run = new GenerationRun(stops, active);
        try {
            run.ticket = backend.scheduler().submit(new BatchRequest(prompt, options), run);
        } catch (QueueFullException e) {
            metrics.rejected();
            throw ErrorResponses.busy(e);
        } catch (ContextOverflowException e) {
            throw ErrorResponses.contextOverflow(e);
        }
        active.add(run.ticket);
        run.ticket.result().whenComplete((g, e) -> {
            active.remove(run.ticket);
            run.events.add(new End(g, e));
        });
        return run;
    }

    @Override
    public void onToken(int id, String text) {
        if (!text.isEmpty()) {
            events.add(text);
        }
    }

    /**
     * Passes the generated text to {@code sink} as it comes and returns the generation when it ends. If the sink
     * throws (the client is gone), the ticket is cancelled before the exception propagates.
     */
    Generation await(TextSink sink) throws IOException, Failed {
        return await(sink, null, 0);
    }

    /** As {@link #await(TextSink)}, calling {@code idle} whenever {@code idleNanos} pass without an event. */
    Generation await(TextSink sink, Idle idle, long idleNanos) throws IOException, Failed {
        try {
            while (true) {
                Object event = idle == null ? events.take() : events.poll(idleNanos, TimeUnit.NANOSECONDS);
                if (event == null) {
                    idle.tick();
                } else if (event instanceof String text) {
                    if (scanner.stopped()) {
                        continue;
                    }
                    String safe = scanner.push(text);
                    if (!safe.isEmpty()) {
                        sink.accept(safe);
                    }
                    if (scanner.stopped()) {
                        ticket.cancel();
                    }
                } else {
                    End end = (End) event;
                    if (end.failure() != null) {
                        throw new Failed(end.failure());
                    }
                    if (!scanner.stopped()) {
                        String rest = scanner.flush();
                        if (!rest.isEmpty()) {
                            sink.accept(rest);
                        }
                    }
                    return end.generation();
                }
            }
        } catch (IOException | RuntimeException e) {
            ticket.cancel();
            throw e;
        } catch (InterruptedException e) {
            ticket.cancel();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while generating", e);
        }
    }

    /** Whether the text was cut at a stop string. */
    boolean stopped() {
        return scanner.stopped();
    }

    void cancel() {
        ticket.cancel();
    }

    /** The budget for the reply: what was asked for, or the rest of the context; an impossible ask is a 400. */
    static int maxTokens(int promptTokens, Integer requested, int contextSize, String param) {
        if (promptTokens >= contextSize) {
            throw ErrorResponses.contextOverflow(promptTokens, contextSize);
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
