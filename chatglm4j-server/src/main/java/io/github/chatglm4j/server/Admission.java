package io.github.chatglm4j.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The CPU work a request causes before it is queued for generation (parsing the JSON, mapping the messages,
 * rendering the tools, tokenizing the prompt) runs here: on a few platform threads, fewer than the processors, with
 * a bounded queue and a deadline. Connections run on virtual threads, whose carriers are as many as the processors;
 * if that work ran on them, two huge requests could occupy every carrier and leave {@code /health} unanswered.
 * Public for the endpoint packages of this module ({@code server.agent}); only the server creates it.
 */
public final class Admission implements AutoCloseable {
    private final ExecutorService workers;
    private final Semaphore capacity;
    private final int capacityCount;
    private final long timeoutNanos;

    /**
     * @param threads  platform threads doing the work
     * @param capacity requests in the work or waiting for it; more get 503
     */
    Admission(int threads, int capacity, Duration timeout) {
        this(Executors.newFixedThreadPool(threads, r -> Thread.ofPlatform().name("chatglm-admission").daemon().unstarted(r)),
                capacity, timeout);
    }

    /** With the given executor (tests hold its workers at a gate). */
    Admission(ExecutorService workers, int capacity, Duration timeout) {
        this.workers = workers;
        this.capacity = new Semaphore(capacity);
        this.capacityCount = capacity;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * Runs {@code work} on a worker and returns its result; its exceptions propagate as they are.
     *
     * @throws ApiError 503 if too many requests are being admitted, or the work did not end within the deadline
     */
    public <T> T run(Callable<T> work) {
        if (!capacity.tryAcquire()) {
            throw busy(capacityCount + " requests are being read and checked; retry later.");
        }
        try {
            Future<T> f = workers.submit(work);
            try {
                return f.get(timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                throw busy("Reading and checking the request took longer than " + Duration.ofNanos(timeoutNanos).toSeconds()
                        + " s; retry later.");
            } catch (InterruptedException e) {
                f.cancel(true);
                Thread.currentThread().interrupt();
                throw busy("The server is stopping.");
            } catch (CancellationException e) {
                throw busy("The server is stopping.");
            } catch (ExecutionException e) {
                switch (e.getCause()) {
                    case RuntimeException r -> throw r;
                    case Error err -> throw err;
                    default -> throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            capacity.release();
        }
    }

    private static ApiError busy(String message) {
        return new ApiError(503, "server_error", message, null, "server_busy",
                Map.of("Retry-After", Integer.toString(ErrorResponses.RETRY_AFTER_SECONDS)));
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
