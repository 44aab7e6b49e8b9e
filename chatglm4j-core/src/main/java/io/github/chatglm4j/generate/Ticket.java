package io.github.chatglm4j.generate;

import io.github.chatglm4j.generate.Generation;

import java.util.concurrent.CompletableFuture;

/** A submitted request: its eventual result, and a way to stop it (e.g. when the client disconnects). */
public interface Ticket {

    /**
     * Completes with the generation (finish reason CANCELLED if cancelled), or exceptionally if the model failed.
     * Never completes before the listener has received every token.
     */
    CompletableFuture<Generation> result();

    /** Stops the request at the next step (or drops it from the queue); idempotent. */
    void cancel();
}
