package io.github.chatglm4j.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a state that the code under test reaches by itself and signals no other way (a request queued inside a
 * server, a worker thread parked). It checks, then parks for a millisecond, so the waiting test leaves both cores
 * to the code it waits for (a spinning wait starved it on two cores); it fails after a generous bound. Use a latch
 * or a gate instead wherever the code offers one.
 */
public final class Await {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private Await() {
    }

    public static void until(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + LIMIT.toSeconds() + " s waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
