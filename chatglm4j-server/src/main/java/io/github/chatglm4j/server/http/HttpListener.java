package io.github.chatglm4j.server.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A small, strict HTTP/1.1 server: one virtual thread per connection, every wait on a client bounded
 * ({@link HttpLimits}), at most {@code maxConnections} connections (the next ones get a short 503 in the server's
 * error format and are closed), and every protocol error answered through the {@link ErrorRenderer} or with a plain
 * close, never with a page of its own.
 *
 * <pre>{@code
 * HttpListener http = HttpListener.start(new InetSocketAddress("127.0.0.1", 8000), HttpLimits.defaults(),
 *         exchange -> exchange.respond(200, "text/plain", "hi".getBytes()), errors);
 * }</pre>
 */
public final class HttpListener implements AutoCloseable {
    /** Refused connections answered at the same time; past it they are closed without an answer. */
    private static final int MAX_LINGERING_REFUSALS = 64;

    private final ServerSocket server;
    private final HttpLimits limits;
    private final HttpHandler handler;
    private final ErrorRenderer errors;
    private final Semaphore connectionSlots;
    private final Semaphore refusals = new Semaphore(MAX_LINGERING_REFUSALS);
    private final Set<HttpConnection> open = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor timer;
    private final LongAdder refused = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();
    private final Thread acceptor;
    private volatile boolean closed;

    private HttpListener(ServerSocket server, HttpLimits limits, HttpHandler handler, ErrorRenderer errors) {
        this.server = server;
        this.limits = limits;
        this.handler = handler;
        this.errors = errors;
        this.connectionSlots = new Semaphore(limits.maxConnections());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("chatglm-http-timer").daemon().unstarted(r));
        timer.setRemoveOnCancelPolicy(true);
        this.acceptor = Thread.ofPlatform().name("chatglm-http-accept").daemon().unstarted(this::acceptLoop);
    }

    /** Binds and starts accepting. */
    public static HttpListener start(InetSocketAddress address, HttpLimits limits, HttpHandler handler, ErrorRenderer errors)
            throws IOException {
        var socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(address, 256);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        var listener = new HttpListener(socket, limits, handler, errors);
        listener.acceptor.start();
        return listener;
    }

    /** The bound address (with the chosen port when bound to port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections open now. */
    public int openConnections() {
        return open.size();
    }

    /** Connections refused because {@code maxConnections} were open. */
    public long refusedConnections() {
        return refused.sum();
    }

    /** Requests refused for malformed HTTP, oversized heads or timeouts. */
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    /** Stops accepting and closes every connection (their handlers see their writes fail). */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closed either way
        }
        for (HttpConnection c : open) {
            c.close();
        }
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
    }

    HttpLimits limits() {
        return limits;
    }

    HttpHandler handler() {
        return handler;
    }

    ErrorRenderer errors() {
        return errors;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    boolean isClosed() {
        return closed;
    }

    void protocolError() {
        protocolErrors.increment();
    }

    void closed(HttpConnection c) {
        if (open.remove(c)) {
            connectionSlots.release();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // e.g. out of file descriptors: let connections close before trying again, instead of spinning
                LockSupport.parkNanos(50_000_000L);
                continue;
            }
            if (!connectionSlots.tryAcquire()) {
                refuse(socket);
                continue;
            }
            try {
                var c = new HttpConnection(this, socket);
                open.add(c);
                if (closed) {
                    c.close();
                }
                Thread.ofVirtual().name("chatglm-http-connection").start(c);
            } catch (IOException | RuntimeException e) {
                connectionSlots.release();
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // gone already
                }
            }
        }
    }

    /** Over the connection cap: a short 503 that says so, then a close. */
    private void refuse(Socket socket) {
        refused.increment();
        if (!refusals.tryAcquire()) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // gone already
            }
            return;
        }
        Thread.ofVirtual().name("chatglm-http-refusal").start(() -> {
            try {
                socket.setSoTimeout(1000);
                socket.getOutputStream().write(HttpConnection.errorResponse(errors, 503, "The server has " + limits.maxConnections()
                        + " open connections, its limit; retry later.", "too_many_connections", "Retry-After", "1"));
                socket.getOutputStream().flush();
            } catch (IOException ignored) {
                // the client is gone
            } finally {
                HttpConnection.lingerAndClose(socket);
                refusals.release();
            }
        });
    }
}
