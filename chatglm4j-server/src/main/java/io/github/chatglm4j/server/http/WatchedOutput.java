package io.github.chatglm4j.server.http;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The socket's output with a deadline on every write: Java sockets have no write timeout, so a client that stops
 * reading would block a write (and the request's slot) forever. A timer closes the socket when a write takes longer
 * than the limit; the write then fails like any other write to a gone client.
 */
final class WatchedOutput extends OutputStream {
    private final Socket socket;
    private final OutputStream out;
    private final ScheduledExecutorService timer;
    private final long timeoutNanos;

    WatchedOutput(Socket socket, ScheduledExecutorService timer, long timeoutNanos) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.timer = timer;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ScheduledFuture<?> abort;
        try {
            abort = timer.schedule(this::abort, timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the listener has closed (its timer with it) while a handler was still working: the connection is
            // being closed, so the write fails like any write to a closed connection
            abort();
            throw new IOException("the server is closing", e);
        }
        try {
            out.write(b, off, len);
        } finally {
            abort.cancel(false);
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    private void abort() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }
}
