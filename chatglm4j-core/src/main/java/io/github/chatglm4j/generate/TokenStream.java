package io.github.chatglm4j.generate;

import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A submitted request whose text is handed from the scheduler thread to the thread that waits for it. The scheduler
 * thread only queues text (it must never wait for a terminal or a client); the waiting thread passes it on, so a
 * slow consumer holds up nobody else. If the consumer fails (a client went away), the request is cancelled at once.
 *
 * <pre>{@code
 * TokenStream stream = TokenStream.submit(scheduler, new BatchRequest(ids, options));
 * Generation g = stream.drain((id, text) -> System.out.print(text));
 * }</pre>
 */
public final class TokenStream {
    /** Receives streamed text on the waiting thread. */
    @FunctionalInterface
    public interface Sink<E extends Exception> {
        void accept(int id, String text) throws E;
    }

    /** Called when nothing arrived for a while (a server sends a keep-alive, which also shows whether the client is there). */
    @FunctionalInterface
    public interface Idle<E extends Exception> {
        void tick() throws E;
    }

    private record Piece(int id, String text) {
    }

    private record End(Generation generation, Throwable failure) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private Ticket ticket;

    private TokenStream() {
    }

    /**
     * Queues a request on the scheduler.
     *
     * @throws ContextOverflowException if the prompt leaves no room to generate
     * @throws QueueFullException       if the scheduler's queue is full
     */
    public static TokenStream submit(BatchScheduler scheduler, BatchRequest request) {
        var stream = new TokenStream();
        stream.ticket = scheduler.submit(request, (id, text) -> stream.events.add(new Piece(id, text)));
        stream.ticket.result().whenComplete((g, e) -> stream.events.add(new End(g, e)));
        return stream;
    }

    /** The request in the scheduler, e.g. to cancel it from another thread. */
    public Ticket ticket() {
        return ticket;
    }

    /** Passes every piece of text to {@code sink} as it comes and returns the generation when it ends. */
    public <E extends Exception> Generation drain(Sink<E> sink) throws E {
        return drain(sink, null, 0);
    }

    /**
     * As {@link #drain(Sink)}, calling {@code idle} whenever {@code idleNanos} pass without an event. If the sink or
     * the idle call throws, the request is cancelled before the exception propagates. If the waiting thread is
     * interrupted, the request is cancelled and its (cancelled) generation returned, with the interrupt flag set.
     *
     * @throws GenerationFailedException if the model failed while generating
     */
    public <E extends Exception> Generation drain(Sink<E> sink, Idle<E> idle, long idleNanos) throws E {
        Objects.requireNonNull(sink, "sink");
        boolean interrupted = false;
        try {
            while (true) {
                Object event;
                try {
                    event = idle == null ? events.take() : events.poll(idleNanos, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                    ticket.cancel();   // the end follows within one scheduler step
                    idle = null;
                    continue;
                }
                switch (event) {
                    case null -> idle.tick();
                    case Piece p -> {
                        if (!p.text().isEmpty() || p.id() >= 0) {
                            sink.accept(p.id(), p.text());
                        }
                    }
                    case End end -> {
                        if (end.failure() != null) {
                            Throwable cause = end.failure() instanceof CompletionException c && c.getCause() != null ? c.getCause() : end.failure();
                            throw new GenerationFailedException(cause);
                        }
                        return end.generation();
                    }
                    default -> throw new AssertionError(event);
                }
            }
        } catch (Exception | Error e) {
            ticket.cancel();
            throw e;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
