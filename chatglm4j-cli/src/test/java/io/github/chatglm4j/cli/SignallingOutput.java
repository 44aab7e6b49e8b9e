package io.github.chatglm4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Output of a command running on another thread that a test can wait on: every write wakes the waiters, so the test
 * blocks until the line it expects appears (or the command ends) instead of polling.
 */
final class SignallingOutput extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
        bytes.write(b);
        notifyAll();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        bytes.write(b, off, len);
        notifyAll();
    }

    @Override
    public synchronized String toString() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Blocks until the output matches {@code pattern} and returns the match; fails if {@code command} ends first or
     * nothing matches within a minute.
     */
    synchronized Matcher await(Pattern pattern, Future<?> command) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            Matcher m = pattern.matcher(toString());
            if (m.find()) {
                return m;
            }
            long left = deadline - System.nanoTime();
            if (command.isDone() || left <= 0) {
                throw new AssertionError("no output matching " + pattern + (command.isDone() ? " before the command ended" : " within a minute")
                        + "; output so far: " + this);
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    /** Wakes waiters when {@code command} ends, so that {@link #await} notices at once. */
    void watch(java.util.concurrent.CompletableFuture<?> command) {
        command.whenComplete((v, e) -> {
            synchronized (this) {
                notifyAll();
            }
        });
    }
}
