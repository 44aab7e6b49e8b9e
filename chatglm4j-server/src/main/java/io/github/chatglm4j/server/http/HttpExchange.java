package io.github.chatglm4j.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * One request and its response as a handler sees it: the head, the body (whole with {@link #readBody(int)}, or as a
 * stream for uploads), then exactly one response: whole ({@link #respond}) or streamed ({@link #stream}, chunked, for
 * server-sent events and downloads). The transport owns the framing headers (length, chunking, connection).
 */
public final class HttpExchange {
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final HttpConnection connection;
    private final RequestHead head;
    private final RequestBody body;
    private final boolean keepAliveRequested;
    private final Map<String, String[]> responseHeaders = new LinkedHashMap<>();
    private final List<Runnable> onGone = new ArrayList<>();
    private final CountDownLatch bodyRead = new CountDownLatch(1);
    private int status = -1;
    private boolean closeAfter;
    private boolean continueSent;
    private OutputStream streaming;
    private boolean gone;

    HttpExchange(HttpConnection connection, RequestHead head, long bodyLength, long bodyDeadline, String timeoutMessage,
                 boolean keepAliveRequested) {
        this.connection = connection;
        this.head = head;
        this.keepAliveRequested = keepAliveRequested;
        this.body = new RequestBody(connection.input(), bodyLength, bodyDeadline, timeoutMessage, this::sendContinue);
        if (body.done()) {
            bodyRead.countDown();
        }
    }

    public RequestHead request() {
        return head;
    }

    public String method() {
        return head.method();
    }

    public String path() {
        return head.path();
    }

    /** The first value of a request header, or null. */
    public String header(String name) {
        return head.headers().first(name);
    }

    public InetSocketAddress remoteAddress() {
        return connection.remoteAddress();
    }

    public InetSocketAddress localAddress() {
        return connection.localAddress();
    }

    /** The request body as a stream (uploads); it ends where the framing says. */
    public InputStream body() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return readBody(b, off, len);
            }
        };
    }

    /**
     * The whole body, at most {@code max} bytes. A larger one is read and thrown away up to the transport's discard
     * bound, so that a client still sending can read the 413 (past the bound the connection is closed after it).
     *
     * @throws HttpError 413 if the body is larger than {@code max}; 400, 408 if it is malformed or too slow
     */
    public byte[] readBody(int max) throws IOException {
        long declared = body.declaredLength();
        if (declared > max) {
            refuseBody(max);
        }
        var out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, 1 << 16)));
        byte[] buf = new byte[16 << 10];
        while (true) {
            int n = readBody(buf, 0, buf.length);
            if (n < 0) {
                return out.toByteArray();
            }
            if (out.size() + n > max) {
                refuseBody(max);
            }
            out.write(buf, 0, n);
        }
    }

    private void refuseBody(int max) throws IOException {
        boolean expectsContinue = expectsContinue() && !continueSent;
        long left = body.declaredLength() < 0 ? -1 : body.declaredLength() - body.received();
        // A client waiting for 100 Continue has not sent the body: answer at once and close. Otherwise read what
        // it sends, within the bound, so that it is not cut off (a reset) before it reads the answer.
        if (expectsContinue || left > connection.limits().discardBytes() || !body.discard(connection.limits().discardBytes())) {
            closeAfter = true;
        }
        track(-1);
        throw new HttpError(413, "The request body is larger than " + max + " bytes.", "request_too_large");
    }

    /** A body read; after a malformed or late body the connection cannot be trusted to carry another request. */
    private int readBody(byte[] b, int off, int len) throws IOException {
        try {
            return track(body.read(b, off, len));
        } catch (HttpError e) {
            closeAfter = true;
            throw e;
        }
    }

    private int track(int n) {
        if (body.done()) {
            bodyRead.countDown();
        }
        return n;
    }

    /** Sets a response header (replacing one of the same name); the framing headers are the transport's. */
    public void setHeader(String name, String value) {
        responseHeaders.put(name.toLowerCase(Locale.ROOT), new String[]{name, value});
    }

    /** The status sent, or -1 while nothing is sent. */
    public int status() {
        return status;
    }

    /** Closes the connection after this response (e.g. after an error that leaves the request stream uncertain). */
    public void closeAfterResponse() {
        closeAfter = true;
    }

    /** Sends a complete response; {@code contentType} is null for an empty body. */
    public void respond(int code, String contentType, byte[] bytes) throws IOException {
        checkNotResponded();
        if (contentType != null) {
            setHeader("Content-Type", contentType);
        }
        boolean noBody = code == 204 || code == 304 || code < 200;
        var headBytes = head(code, noBody ? null : "Content-Length: " + bytes.length);
        OutputStream out = connection.output();
        out.write(headBytes);
        if (!noBody && !head.method().equals("HEAD")) {
            out.write(bytes);
        }
        out.flush();
    }

    /**
     * Starts a streamed response: chunked for HTTP/1.1 (each {@code flush()} sends what was written), plain bytes
     * ended by closing the connection for HTTP/1.0. Close the stream (or return from the handler) to end it.
     */
    public OutputStream stream(int code, String contentType) throws IOException {
        checkNotResponded();
        setHeader("Content-Type", contentType);
        if (!head.http11()) {
            closeAfter = true;
        }
        OutputStream raw = connection.output();
        raw.write(head(code, head.http11() ? "Transfer-Encoding: chunked" : null));
        raw.flush();
        streaming = head.http11() ? new ChunkedOutput(raw) : raw;
        if (head.method().equals("HEAD")) {
            streaming = OutputStream.nullOutputStream();
        }
        return streaming;
    }

    /**
     * Runs {@code action} when the client goes away before the response ends (its connection closed or reset, or a
     * write timed out); at once if it already has. Used to cancel a generation the client no longer waits for.
     */
    public void onClientGone(Runnable action) {
        boolean now;
        synchronized (onGone) {
            now = gone;
            if (!now) {
                onGone.add(action);
            }
        }
        if (now) {
            action.run();
        }
    }

    /** Whether the connection saw the client leave. */
    public boolean clientGone() {
        synchronized (onGone) {
            return gone;
        }
    }

    void markGone() {
        List<Runnable> actions;
        synchronized (onGone) {
            if (gone) {
                return;
            }
            gone = true;
            actions = List.copyOf(onGone);
        }
        for (Runnable r : actions) {
            r.run();
        }
    }

    /** Blocks until the body was read to its end or the handler is done (whichever first). */
    void awaitBodyRead() throws InterruptedException {
        bodyRead.await();
    }

    /** Lets the connection stop waiting for the body (the handler ended without reading it). */
    void handlerDone() {
        bodyRead.countDown();
    }

    RequestBody requestBody() {
        return body;
    }

    boolean keepAlive() {
        return keepAliveRequested && !closeAfter;
    }

    boolean responded() {
        return status >= 0;
    }

    /** Ends a streamed body; called by the transport after the handler returns. */
    void finishStream() throws IOException {
        if (streaming != null) {
            streaming.close();
            streaming = null;
        }
    }

    private boolean expectsContinue() {
        return head.http11() && head.headers().hasToken("Expect", "100-continue");
    }

    private void sendContinue() {
        if (expectsContinue() && status < 0 && !continueSent) {
            continueSent = true;
            try {
                connection.output().write(CONTINUE);
                connection.output().flush();
            } catch (IOException ignored) {
                // the body read that follows fails the same way
            }
        }
    }

    private void checkNotResponded() {
        if (status >= 0) {
            throw new IllegalStateException("a response was already sent (" + status + ")");
        }
    }

    private byte[] head(int code, String framing) {
        status = code;
        if (!body.done() && (expectsContinue() && !continueSent
                || body.declaredLength() - body.received() > connection.limits().discardBytes())) {
            closeAfter = true; // the rest of the body will not be read: the connection cannot carry another request
        }
        var sb = new StringBuilder(256);
        sb.append(head.http11() ? "HTTP/1.1 " : "HTTP/1.0 ").append(code).append(' ').append(Status.reason(code)).append("\r\n");
        sb.append("Date: ").append(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
        for (String[] h : responseHeaders.values()) {
            String name = h[0].toLowerCase(Locale.ROOT);
            if (name.equals("content-length") || name.equals("transfer-encoding") || name.equals("connection")) {
                continue;
            }
            sb.append(clean(h[0])).append(": ").append(clean(h[1])).append("\r\n");
        }
        if (!responseHeaders.containsKey("x-content-type-options")) {
            sb.append("X-Content-Type-Options: nosniff\r\n");
        }
        if (framing != null) {
            sb.append(framing).append("\r\n");
        }
        if (!keepAlive()) {
            sb.append("Connection: close\r\n");
        } else if (!head.http11()) {
            sb.append("Connection: keep-alive\r\n");
        }
        sb.append("\r\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Header text never carries a line break into the response (header injection). */
    private static String clean(String s) {
        return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 ? s : s.replace('\r', ' ').replace('\n', ' ');
    }
}
