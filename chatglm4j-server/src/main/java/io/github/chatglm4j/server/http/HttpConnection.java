package io.github.chatglm4j.server.http;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One client connection, on its own virtual thread: reads a request head (against the header deadline), frames the
 * body, runs the handler on another virtual thread and, once the body is read, watches the connection so that a
 * client that leaves is noticed at once (its generation is cancelled), streaming or not. Then the next request
 * (keep-alive) or the end. Every refusal is an error body in the server's format followed by a close.
 */
final class HttpConnection implements Runnable {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");
    /** After a refusal: how much of what the client still sends is read before closing, so that it sees the answer. */
    private static final long LINGER_BYTES = 1 << 20;
    private static final long LINGER_NANOS = 2_000_000_000L;

    private final HttpListener listener;
    private final Socket socket;
    private final HttpLimits limits;
    private final ConnectionInput input;
    private final OutputStream output;

    HttpConnection(HttpListener listener, Socket socket) throws IOException {
        this.listener = listener;
        this.socket = socket;
        this.limits = listener.limits();
        this.input = new ConnectionInput(socket);
        this.output = new BufferedOutputStream(new WatchedOutput(socket, listener.timer(), limits.writeTimeout().toNanos()), 16 << 10);
        socket.setTcpNoDelay(true);
    }

    ConnectionInput input() {
        return input;
    }

    OutputStream output() {
        return output;
    }

    HttpLimits limits() {
        return limits;
    }

    InetSocketAddress remoteAddress() {
        return (InetSocketAddress) socket.getRemoteSocketAddress();
    }

    InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do with it
        }
    }

    @Override
    public void run() {
        try {
            serve();
        } catch (IOException | RuntimeException e) {
            // the client went away or the listener closed: the connection ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            listener.closed(this);
        }
    }

    private void serve() throws IOException, InterruptedException {
        long waitUntil = System.nanoTime() + limits.headerTimeout().toNanos(); // the client connected to send a request
        while (!listener.isClosed()) {
            input.deadline(waitUntil);
            try {
                if (input.peek() < 0) {
                    return;
                }
            } catch (SocketTimeoutException e) {
                return; // idle (or never said anything): a plain close
            }
            input.deadline(System.nanoTime() + limits.headerTimeout().toNanos());
            HttpExchange exchange;
            try {
                RequestHead head = RequestHead.read(input, limits.maxHeaderBytes());
                if (head == null) {
                    return;
                }
                exchange = exchange(head);
            } catch (SocketTimeoutException e) {
                refuse(new HttpError(408, "The request headers did not arrive within " + seconds(limits.headerTimeout().toNanos())
                        + ".", "request_timeout"));
                return;
            } catch (HttpError e) {
                refuse(e);
                return;
            }
            if (!run(exchange)) {
                return;
            }
            waitUntil = System.nanoTime() + limits.idleTimeout().toNanos();
        }
    }

    /** Frames the body as the headers say, refusing every ambiguous or unsupported framing. */
    private HttpExchange exchange(RequestHead head) {
        Headers h = head.headers();
        List<String> hosts = h.all("Host");
        if (hosts.size() > 1 || head.http11() && hosts.isEmpty()) {
            throw HttpError.badRequest("An HTTP/1.1 request needs exactly one Host header.");
        }
        if (head.host() != null && !HostName.isValid(head.host())) {
            throw HttpError.badRequest("The Host header is not a valid host[:port].");
        }
        List<String> te = h.all("Transfer-Encoding");
        List<String> cl = h.all("Content-Length");
        long length;
        if (!te.isEmpty()) {
            if (!cl.isEmpty()) {
                throw HttpError.badRequest("A request may not have both Content-Length and Transfer-Encoding.");
            }
            if (!head.http11()) {
                throw HttpError.badRequest("Transfer-Encoding is not defined for HTTP/1.0.");
            }
            if (te.size() != 1 || !te.getFirst().equalsIgnoreCase("chunked")) {
                throw new HttpError(501, "Only the 'chunked' transfer coding is supported.", "unsupported_transfer_encoding");
            }
            length = -1;
        } else if (!cl.isEmpty()) {
            if (cl.size() != 1) {
                throw HttpError.badRequest("A request may have only one Content-Length.");
            }
            String v = cl.getFirst();
            if (!v.matches("[0-9]+")) {
                throw HttpError.badRequest("Content-Length must be a decimal number of bytes, got '" + HttpError.printable(v, 40) + "'.");
            }
            if (v.length() > 18) {
                throw new HttpError(413, "The request body is too large (Content-Length " + HttpError.printable(v, 40) + ").", "request_too_large");
            }
            length = Long.parseLong(v);
        } else {
            length = 0;
        }
        String expect = h.first("Expect");
        if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
            throw new HttpError(417, "Only 'Expect: 100-continue' is supported.", "expectation_failed");
        }
        boolean keepAlive = head.http11() ? !h.hasToken("Connection", "close") : h.hasToken("Connection", "keep-alive");
        return new HttpExchange(this, head, length, System.nanoTime() + limits.bodyTimeout().toNanos(),
                "The request body did not arrive within " + seconds(limits.bodyTimeout().toNanos()), keepAlive);
    }

    /** Runs the handler and watches the client meanwhile; true if the connection can carry another request. */
    private boolean run(HttpExchange exchange) throws InterruptedException {
        Thread worker = Thread.ofVirtual().name("chatglm-http-handler").start(() -> handle(exchange));
        exchange.awaitBodyRead();
        if (worker.isAlive() && !watch(exchange, worker)) {
            worker.join();
            return false;
        }
        worker.join();
        RequestBody body = exchange.requestBody();
        if (!exchange.keepAlive()) {
            if (!body.done()) {
                lingeringClose();
            }
            return false;
        }
        if (!body.done()) {
            try {
                return body.discard(limits.discardBytes());
            } catch (IOException | HttpError e) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits for the client while the handler works: the end of the stream or an error means it left (its request
     * is cancelled through {@link HttpExchange#onClientGone}); a byte is its next request. False if it left.
     */
    private boolean watch(HttpExchange exchange, Thread worker) {
        while (true) {
            input.deadline(System.nanoTime() + limits.idleTimeout().toNanos());
            try {
                if (input.peek() < 0) {
                    exchange.markGone();
                    return false;
                }
                return true;
            } catch (SocketTimeoutException e) {
                if (!worker.isAlive()) {
                    return true;
                }
            } catch (IOException e) {
                exchange.markGone();
                return false;
            }
        }
    }

    private void handle(HttpExchange exchange) {
        try {
            listener.handler().handle(exchange);
            exchange.finishStream();
            if (!exchange.responded()) {
                respondError(exchange, new HttpError(500, "The server sent no response.", null));
            }
        } catch (HttpError e) {
            if (!exchange.responded()) {
                exchange.closeAfterResponse();
                respondError(exchange, e);
            } else {
                exchange.closeAfterResponse();
            }
        } catch (IOException e) {
            exchange.closeAfterResponse(); // the client is gone, or the response broke off
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "error while handling " + exchange.method() + " " + exchange.path(), e);
            exchange.closeAfterResponse();
            if (!exchange.responded()) {
                respondError(exchange, new HttpError(500, "The server had an error while processing the request.", null));
            }
        } finally {
            if (exchange.clientGone() || !exchange.keepAlive()) {
                try {
                    output.flush();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            exchange.handlerDone();
        }
    }

    private void respondError(HttpExchange exchange, HttpError e) {
        ErrorRenderer.Rendered r = listener.errors().render(e.status(), e.getMessage(), e.code());
        try {
            exchange.respond(e.status(), r.contentType(), r.body());
        } catch (IOException | IllegalStateException ignored) {
            // nothing more can be told to this client
        }
    }

    /** Answers a request the transport cannot serve, then closes the connection. */
    private void refuse(HttpError e) {
        listener.protocolError();
        try {
            output.write(errorResponse(listener.errors(), e.status(), e.getMessage(), e.code()));
            output.flush();
        } catch (IOException ignored) {
            // the client is gone
        }
        lingeringClose();
    }

    /**
     * Closes after a refusal without resetting the connection: stops sending, then reads (and drops) what the
     * client still sends for a little while, so that its last packets do not make the kernel send a reset that
     * would destroy the answer before the client reads it.
     */
    void lingeringClose() {
        lingerAndClose(socket);
    }

    static void lingerAndClose(Socket socket) {
        try (socket) {
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            byte[] sink = new byte[8192];
            long read = 0;
            long deadline = System.nanoTime() + LINGER_NANOS;
            while (read < LINGER_BYTES) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                int n = in.read(sink);
                if (n < 0) {
                    break;
                }
                read += n;
            }
        } catch (IOException ignored) {
            // closed either way
        }
    }

    /** A complete response that closes the connection, for refusals outside any exchange. */
    static byte[] errorResponse(ErrorRenderer errors, int status, String message, String code, String... extraHeaders) {
        ErrorRenderer.Rendered r = errors.render(status, message, code);
        var sb = new StringBuilder();
        sb.append("HTTP/1.1 ").append(status).append(' ').append(Status.reason(status)).append("\r\n");
        sb.append("Content-Type: ").append(r.contentType()).append("\r\n");
        sb.append("Content-Length: ").append(r.body().length).append("\r\n");
        sb.append("X-Content-Type-Options: nosniff\r\n");
        for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
            sb.append(extraHeaders[i]).append(": ").append(extraHeaders[i + 1]).append("\r\n");
        }
        sb.append("Connection: close\r\n\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + r.body().length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(r.body(), 0, out, head.length, r.body().length);
        return out;
    }

    private static String seconds(long nanos) {
        double s = nanos / 1e9;
        return s == Math.rint(s) ? (long) s + " s" : s + " s";
    }
}
