package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.github.chatglm4j.server.http.HttpError;
import io.github.chatglm4j.server.http.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One HTTP exchange as the endpoints see it: the body in, a JSON response or an event stream out. It hides the
 * transport, so the handlers only translate between HTTP/JSON and the engine. Public for the endpoint packages of
 * this module ({@code server.agent}); only the server creates it.
 */
public final class Exchange {
    /** Writes responses (requests are read with {@link io.github.chatglm4j.server.chat.RequestJson}). */
    static final ObjectMapper JSON = JsonMapper.builder().build();

    private final HttpExchange http;
    private final int maxBodyBytes;

    Exchange(HttpExchange http, int maxBodyBytes) {
        this.http = http;
        this.maxBodyBytes = maxBodyBytes;
    }

    public String method() {
        return http.method();
    }

    public String path() {
        return http.path();
    }

    public String header(String name) {
        return http.header(name);
    }

    public void setHeader(String name, String value) {
        http.setHeader(name, value);
    }

    /** The status sent, or -1 while nothing is sent. */
    public int status() {
        return http.status();
    }

    /** Runs {@code action} (e.g. cancelling the request's generation) as soon as the client leaves. */
    public void onClientGone(Runnable action) {
        http.onClientGone(action);
    }

    /** The whole body; 413 when larger than the limit, 400/408 when malformed or too slow. */
    public byte[] body() throws IOException {
        try {
            return http.readBody(maxBodyBytes);
        } catch (HttpError e) {
            throw ErrorResponses.transport(e);
        }
    }

    public void json(int code, JsonNode body) throws IOException {
        http.respond(code, "application/json", JSON.writeValueAsBytes(body));
    }

    public void text(int code, String contentType, String body) throws IOException {
        http.respond(code, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    public void empty(int code) throws IOException {
        http.respond(code, null, new byte[0]);
    }

    /** A complete response of raw bytes (a download). */
    public void bytes(int code, String contentType, byte[] body) throws IOException {
        http.respond(code, contentType, body);
    }

    /**
     * The body as a stream of at most {@code max} bytes (an upload): a declared length over the limit is refused
     * before anything is read; a longer body without a declared length fails the read past the limit.
     *
     * @throws ApiError 413 when the body is larger than {@code max}
     */
    public InputStream bodyStream(long max) {
        String declared = http.header("Content-Length");
        if (declared != null && declared.length() < 19 && Long.parseLong(declared) > max) {
            http.closeAfterResponse(); // the body is not read: the connection cannot carry another request
            throw ErrorResponses.tooLarge(max);
        }
        InputStream in = http.body();
        return new InputStream() {
            private long read;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n;
                try {
                    n = in.read(b, off, (int) Math.min(len, max + 1 - read));
                } catch (HttpError e) {
                    throw ErrorResponses.transport(e);
                }
                if (n > 0 && (read += n) > max) {
                    http.closeAfterResponse();
                    throw ErrorResponses.tooLarge(max);
                }
                return n;
            }
        };
    }

    void error(ApiError e) throws IOException {
        for (Map.Entry<String, String> h : e.headers.entrySet()) {
            setHeader(h.getKey(), h.getValue());
        }
        json(e.status, ErrorResponses.body(e));
    }

    /** Starts a server-sent event stream (status 200, chunked). */
    public EventStream events() throws IOException {
        setHeader("Cache-Control", "no-cache");
        setHeader("X-Accel-Buffering", "no"); // keeps reverse proxies from buffering the stream
        return new EventStream(http.stream(200, "text/event-stream; charset=utf-8"));
    }

    /** {@code data: <json>} events, each flushed at once so that a closed connection shows at the next write. */
    public static final class EventStream {
        private final OutputStream out;

        EventStream(OutputStream out) {
            this.out = out;
        }

        public void send(JsonNode data) throws IOException {
            write(JSON.writeValueAsString(data));
        }

        void done() throws IOException {
            write("[DONE]");
        }

        /** An SSE comment line: ignored by clients, but it fails at once if the client has gone. */
        public void keepAlive() throws IOException {
            out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        private void write(String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
