package io.github.chatglm4j.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One HTTP exchange as the endpoints see it: the JSON body in, a JSON response or an event stream out. */
final class Exchange {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    private final HttpExchange http;
    private final int maxBodyBytes;
    private int status = -1;

    Exchange(HttpExchange http, int maxBodyBytes) {
        this.http = http;
        this.maxBodyBytes = maxBodyBytes;
    }

    String method() {
        return http.getRequestMethod();
    }

    String path() {
        return http.getRequestURI().getPath();
    }

    String header(String name) {
        return http.getRequestHeaders().getFirst(name);
    }

    void setHeader(String name, String value) {
        http.getResponseHeaders().set(name, value);
    }

    /** The status sent, or -1 while nothing is sent. */
    int status() {
        return status;
    }

    /** The body as a JSON object; 413 when too large, 400 when it is not a JSON object. */
    ObjectNode jsonObject() {
        byte[] body = body();
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw ApiError.invalid("The request body is not valid JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), null);
        } catch (IOException e) {
            throw ApiError.invalid("The request body could not be read: " + e.getMessage(), null);
        }
        if (node == null || node.isMissingNode()) {
            throw ApiError.invalid("The request body is empty; send a JSON object.", null);
        }
        if (!node.isObject()) {
            throw ApiError.invalid("The request body must be a JSON object.", null);
        }
        return (ObjectNode) node;
    }

    private byte[] body() {
        String length = header("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > maxBodyBytes) {
                    throw ErrorResponses.tooLarge(maxBodyBytes);
                }
            } catch (NumberFormatException ignored) {
                // the HTTP layer rejects malformed lengths; read and count instead
            }
        }
        var out = new ByteArrayOutputStream();
        byte[] buf = new byte[16384];
        try (InputStream in = http.getRequestBody()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() + n > maxBodyBytes) {
                    throw ErrorResponses.tooLarge(maxBodyBytes);
                }
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw ApiError.invalid("The request body could not be read: " + e.getMessage(), null);
        }
        return out.toByteArray();
    }

    void json(int code, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        setHeader("Content-Type", "application/json");
        send(code, bytes);
    }

    void text(int code, String contentType, String body) throws IOException {
        setHeader("Content-Type", contentType);
        send(code, body.getBytes(StandardCharsets.UTF_8));
    }

    void empty(int code) throws IOException {
        status = code;
        http.sendResponseHeaders(code, -1);
    }

    void error(ApiError e) throws IOException {
        for (Map.Entry<String, String> h : e.headers.entrySet()) {
            setHeader(h.getKey(), h.getValue());
        }
        json(e.status, ErrorResponses.body(e));
    }

    private void send(int code, byte[] bytes) throws IOException {
        status = code;
        http.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = http.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Starts a server-sent event stream (status 200, chunked). */
    EventStream events() throws IOException {
        setHeader("Content-Type", "text/event-stream; charset=utf-8");
        setHeader("Cache-Control", "no-cache");
        setHeader("X-Accel-Buffering", "no"); // keeps reverse proxies from buffering the stream
        status = 200;
        http.sendResponseHeaders(200, 0);
        return new EventStream(http.getResponseBody());
    }

    /** {@code data: <json>} events, each flushed at once so that a closed connection shows at the next write. */
    static final class EventStream {
        private final OutputStream out;

        EventStream(OutputStream out) {
            this.out = out;
        }

        void send(JsonNode data) throws IOException {
            write(JSON.writeValueAsString(data));
        }

        void done() throws IOException {
            write("[DONE]");
        }

        /** An SSE comment line: ignored by clients, but it fails at once if the client has gone. */
        void keepAlive() throws IOException {
            out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        private void write(String data) throws IOException {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
