package io.github.chatglm4j.webui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.server.WebUi;
import io.github.chatglm4j.server.http.ErrorRenderer;
import io.github.chatglm4j.server.http.HttpExchange;
import io.github.chatglm4j.server.http.HttpLimits;
import io.github.chatglm4j.server.http.HttpListener;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A test-only stand-in for the agent API of NOTES-agent-api.md (conversations, turns as event streams, files, info),
 * serving the real page ({@link WebUi}, with its headers) on a loopback port. A test scripts the events of each turn;
 * {@link #HOLD} in a script parks the stream until {@link #release()} or until the page stops the turn (stop request
 * or closed connection), which then ends it with a {@code cancelled} done event, as the real server does.
 */
final class FakeAgentApi implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** In a script: wait here for {@link #release()} (or a stop). */
    static final ObjectNode HOLD = JSON.createObjectNode().put("type", "hold");

    final HttpListener http;
    private final WebUi page = new WebUi();
    volatile String apiKey;
    volatile boolean ready = true;
    volatile boolean interpreterAvailable = true;
    /** The events of a turn, from its request body. */
    volatile Function<JsonNode, List<ObjectNode>> script = request -> List.of(text(1, "Hello!"), done("answered", request, "Hello!"));
    /** When set, turns are refused with this status and error body. */
    volatile ObjectNode refuseTurns;
    volatile int refuseStatus;
    final List<JsonNode> turns = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final Map<String, Map<String, byte[]>> files = new ConcurrentHashMap<>();
    final List<String> stops = new CopyOnWriteArrayList<>();
    final List<String> deleted = new CopyOnWriteArrayList<>();
    final AtomicInteger clientsGone = new AtomicInteger();
    /** The streams parked at a HOLD now, each with its own gate. */
    private final List<Semaphore> parked = new CopyOnWriteArrayList<>();
    private final Semaphore held = new Semaphore(0);
    private final Map<String, LinkedBlockingQueue<String>> stopSignals = new ConcurrentHashMap<>();
    private final Map<String, Semaphore> gates = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    FakeAgentApi() throws IOException {
        http = HttpListener.start(new InetSocketAddress("127.0.0.1", 0), HttpLimits.defaults(), this::handle,
                (status, message, code) -> new ErrorRenderer.Rendered("application/json", errorBody(message, code).toString().getBytes(StandardCharsets.UTF_8)));
    }

    String url() {
        return "http://127.0.0.1:" + http.port() + "/";
    }

    /** Waits until a stream is parked at a HOLD and lets it go on (bounded, so that a broken page fails the test). */
    void release() throws InterruptedException {
        releaseAll(1);
    }

    /** Waits until {@code n} streams are parked at a HOLD and lets them all go on. */
    void releaseAll(int n) throws InterruptedException {
        if (!held.tryAcquire(n, 60, TimeUnit.SECONDS)) {
            throw new AssertionError("fewer than " + n + " streams reached their hold point");
        }
        for (int i = 0; i < n; i++) {
            parked.removeFirst().release();
        }
    }

    /** Waits until {@code n} streams are parked at a HOLD, leaving them there. */
    void awaitHeld(int n) throws InterruptedException {
        if (!held.tryAcquire(n, 60, TimeUnit.SECONDS)) {
            throw new AssertionError("fewer than " + n + " streams reached their hold point");
        }
        held.release(n);
    }

    JsonNode lastTurn() {
        return turns.getLast();
    }

    @Override
    public void close() {
        for (Semaphore gate : parked) {
            gate.release();
        }
        http.close();
    }

    // ------------------------------------------------------------------ events

    static ObjectNode text(int round, String text) {
        return JSON.createObjectNode().put("type", "text").put("round", round).put("text", text);
    }

    static ObjectNode callStart(int round, String name) {
        return JSON.createObjectNode().put("type", "call_start").put("round", round).put("name", name);
    }

    static ObjectNode code(int round, String text) {
        return JSON.createObjectNode().put("type", "code").put("round", round).put("text", text);
    }

    static ObjectNode call(int round, String name, String argumentsJson, String code) {
        ObjectNode e = JSON.createObjectNode().put("type", "call").put("round", round).put("name", name);
        try {
            e.set("arguments", argumentsJson == null ? null : JSON.readTree(argumentsJson));
        } catch (IOException ex) {
            throw new IllegalArgumentException(ex);
        }
        e.put("code", code);
        e.putNull("error");
        return e;
    }

    static ObjectNode status(int round, String message) {
        return JSON.createObjectNode().put("type", "status").put("round", round).put("message", message);
    }

    static ObjectNode result(int round, String name, String display, List<String> images, Map<String, Integer> files,
                             boolean failed, boolean timedOut) {
        ObjectNode e = JSON.createObjectNode().put("type", "result").put("round", round).put("name", name)
                .put("observation", display).put("display", display).put("failed", failed).put("timed_out", timedOut)
                .put("restarted", timedOut);
        ArrayNode imgs = e.putArray("images");
        images.forEach(imgs::add);
        ArrayNode fs = e.putArray("files");
        files.forEach((n, size) -> fs.addObject().put("name", n).put("size", size));
        return e;
    }

    static ObjectNode error(String code, String message) {
        return JSON.createObjectNode().put("type", "error").put("code", code).put("message", message);
    }

    /** A done event whose history is the request's history, its message and the given assistant entries. */
    static ObjectNode done(String outcome, JsonNode request, String answer, ObjectNode... more) {
        ObjectNode e = JSON.createObjectNode().put("type", "done").put("outcome", outcome).put("max_rounds", 5);
        ArrayNode history = e.putArray("history");
        request.path("history").forEach(history::add);
        history.add(request.get("message"));
        for (ObjectNode m : more) {
            history.add(m);
        }
        if (answer != null) {
            history.addObject().put("role", "assistant").put("content", answer).put("metadata", "");
        }
        e.putObject("stats").put("prompt_tokens", 42).put("cached_tokens", 0).put("prompt_tokens_per_second", 120.5)
                .put("completion_tokens", 17).put("generation_tokens_per_second", 8.25);
        return e;
    }

    static ObjectNode entry(String role, String content, String metadata) {
        return JSON.createObjectNode().put("role", role).put("content", content).put("metadata", metadata);
    }

    // ------------------------------------------------------------------ HTTP

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.path();
        if (!path.startsWith("/api/")) {
            if (!WebUi.owns(path) || !page.serve(ex, path)) {
                json(ex, 404, errorBody("no such page", "unknown_url"));
            }
            return;
        }
        if (path.equals("/api/info")) {
            json(ex, 200, info());
            return;
        }
        String auth = ex.header("Authorization");
        authorizations.add(auth == null ? "" : auth);
        if (apiKey != null && !("Bearer " + apiKey).equals(auth)) {
            json(ex, 401, errorBody("Incorrect API key provided.", "invalid_api_key"));
            return;
        }
        String[] parts = path.substring("/api/".length()).split("/", -1);
        if (parts[0].equals("conversations") && parts.length == 1 && ex.method().equals("POST")) {
            String id = "c-" + ids.incrementAndGet();
            files.put(id, new ConcurrentHashMap<>());
            ex.readBody(1 << 20);
            json(ex, 201, JSON.createObjectNode().put("id", id));
            return;
        }
        if (!parts[0].equals("conversations") || parts.length < 2 || !files.containsKey(parts[1])) {
            json(ex, 404, errorBody("no such conversation", "not_found"));
            return;
        }
        String id = parts[1];
        if (parts.length == 2 && ex.method().equals("DELETE")) {
            files.remove(id);
            deleted.add(id);
            ex.respond(204, null, new byte[0]);
        } else if (parts.length == 3 && parts[2].equals("turn") && ex.method().equals("POST")) {
            turn(ex, id);
        } else if (parts.length == 3 && parts[2].equals("stop") && ex.method().equals("POST")) {
            ex.readBody(1 << 20);
            stops.add(id);
            stopSignals.computeIfAbsent(id, k -> new LinkedBlockingQueue<>()).add("stop");
            Semaphore gate = gates.get(id);
            if (gate != null) {
                gate.release(); // a held stream wakes up and sees the stop
            }
            ex.respond(204, null, new byte[0]);
        } else if (parts.length == 4 && parts[2].equals("files")) {
            String name = URLDecoder.decode(parts[3], StandardCharsets.UTF_8);
            if (ex.method().equals("PUT")) {
                byte[] bytes;
                try (InputStream in = ex.body()) {
                    bytes = in.readAllBytes();
                }
                files.get(id).put(name, bytes);
                json(ex, 201, JSON.createObjectNode().put("name", name).put("size", bytes.length).put("path", "/mnt/data/" + name)
                        .put("announcement", "#File: /mnt/data/" + name + "\n#Size: " + bytes.length + "\n#File uploaded\n"));
            } else {
                byte[] bytes = files.get(id).get(name);
                if (bytes == null) {
                    json(ex, 404, errorBody("no such file", "not_found"));
                    return;
                }
                ex.setHeader("Content-Disposition", "attachment; filename=\"" + name + "\"");
                ex.respond(200, "application/octet-stream", bytes);
            }
        } else {
            json(ex, 404, errorBody("unknown route", "unknown_url"));
        }
    }

    private void turn(HttpExchange ex, String id) throws IOException {
        JsonNode request = JSON.readTree(ex.readBody(8 << 20));
        turns.add(request);
        if (refuseTurns != null) {
            json(ex, refuseStatus, refuseTurns);
            return;
        }
        var stopSignal = stopSignals.computeIfAbsent(id, k -> new LinkedBlockingQueue<>());
        stopSignal.clear();
        Semaphore gate = new Semaphore(0);
        gates.put(id, gate);
        ex.onClientGone(() -> {
            clientsGone.incrementAndGet();
            stopSignal.add("gone");
            gate.release();
        });
        List<ObjectNode> events = script.apply(request);
        OutputStream out = ex.stream(200, "text/event-stream");
        StringBuilder said = new StringBuilder();
        try {
            for (ObjectNode e : events) {
                if (e == HOLD) {
                    parked.add(gate);
                    held.release();
                    try {
                        gate.acquire();
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        return;
                    } finally {
                        if (parked.remove(gate)) {
                            held.tryAcquire(); // woken by a stop, not by release(): its park no longer counts
                        }
                    }
                }
                if (stopSignal.poll() != null || ex.clientGone()) {
                    write(out, done("cancelled", request, said.toString()));
                    return;
                }
                if (e == HOLD) {
                    continue;
                }
                if (e.path("type").asText().equals("text")) {
                    said.append(e.path("text").asText());
                }
                write(out, e);
            }
        } catch (IOException gone) {
            // the page closed the stream (Stop aborts the fetch)
        } finally {
            try {
                out.close();
            } catch (IOException ignored) {
                // gone
            }
        }
    }

    private static void write(OutputStream out, JsonNode event) throws IOException {
        out.write(("data: " + event + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private ObjectNode info() {
        ObjectNode info = JSON.createObjectNode().put("model", "chatglm3-6b (scripted)").put("context", 8192).put("auth", apiKey != null);
        info.putObject("defaults").put("max_tokens", 256).put("temperature", 0.95).put("top_p", 0.8).put("repetition_penalty", 1.1);
        info.put("system_prompt", "You are ChatGLM3, a large language model trained by Zhipu.AI. Follow the user's instructions carefully. Respond using markdown.");
        ArrayNode tools = info.putArray("tools");
        tools.addObject().put("name", "random_number_generator").put("description", "Generates a random number x, s.t. range[0] <= x < range[1]");
        tools.addObject().put("name", "get_weather").put("description", "Get the current weather for `city_name`");
        tools.addObject().put("name", "get_shell").put("description", "Use shell to run command");
        info.putObject("interpreter").put("available", interpreterAvailable).put("reason", interpreterAvailable ? null : "bwrap is not installed");
        info.put("max_rounds", 5).put("max_upload", 64 << 20).put("ready", ready);
        return info;
    }

    static ObjectNode errorBody(String message, String code) {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("error").put("message", message).put("type", "invalid_request_error").putNull("param").put("code", code);
        return root;
    }

    private static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
        ex.respond(status, "application/json", JSON.writeValueAsBytes(body));
    }

    /** Splits text into pieces of about {@code n} characters, as a model streams it. */
    static List<ObjectNode> streamed(int round, String text, int n) {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = 0; i < text.length(); i += n) {
            out.add(text(round, text.substring(i, Math.min(text.length(), i + n))));
        }
        return out;
    }
}
