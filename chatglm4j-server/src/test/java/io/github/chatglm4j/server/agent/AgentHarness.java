package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.OpenAiServer;
import io.github.chatglm4j.server.ServerOptions;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static io.github.chatglm4j.testing.Numbers.concat;

/**
 * A real server on a loopback port over a real scheduler driven by a scripted ChatGLM3 (its replies are chosen from the
 * prompt's text and written as the model writes them: the metadata line, then the text or the fenced call, then the
 * stop token), with the real sandbox behind the agent API. It records every prompt the model was given.
 */
final class AgentHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "test-model";

    final OpenAiServer server;
    final BatchScheduler scheduler;
    final ScriptedModel model;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** Every prompt the model started a reply to, in order. */
    final List<int[]> prompts = new CopyOnWriteArrayList<>();

    /**
     * @param reply the model's reply (as generated after {@code <|assistant|>}) to a prompt, given the prompt's text
     */
    AgentHarness(ServerOptions options, Function<String, int[]> reply) {
        this(options, reply, 2048);
    }

    AgentHarness(ServerOptions options, Function<String, int[]> reply, int contextSize) {
        Map<Integer, int[]> replies = new ConcurrentHashMap<>();
        this.model = ScriptedModel.replying(contextSize, (prompt, generated) -> {
            int key = Arrays.hashCode(prompt) ^ prompt.length;
            int[] r = generated == 0 ? replies.compute(key, (k, old) -> {
                prompts.add(prompt);
                return reply.apply(tokenizer().decode(prompt));
            }) : replies.get(key);
            return generated < r.length ? r[generated] : ChatGLMTokenizer.EOS;
        });
        this.server = OpenAiServer.start(options);
        this.scheduler = new BatchScheduler(model, tokenizer(), 2, 8);
        server.ready(new Backend(MODEL, tokenizer(), new PromptBuilder(tokenizer()), scheduler, 1_700_000_000L));
    }

    static ChatGLMTokenizer tokenizer() {
        return Fixtures.tokenizer();
    }

    /** A plain answer: an empty metadata line, the text, then {@code <|user|>}. */
    static int[] text(String answer) {
        return concat(tokenizer().encode("\n"), tokenizer().encode(answer), new int[]{ChatGLMTokenizer.USER});
    }

    /** A call: the tool's name (or {@code interpreter}) line, the fenced body, then {@code <|observation|>}. */
    static int[] call(String name, String fencedBody) {
        return concat(tokenizer().encode(name + "\n"), tokenizer().encode(fencedBody), new int[]{ChatGLMTokenizer.OBSERVATION});
    }

    /** Code for the interpreter, fenced as the model writes it. */
    static int[] code(String python) {
        return call("interpreter", "```python\n" + python + "\n```");
    }

    /** The text of the prompt's last message (after its role token and header line). */
    static String lastMessage(String prompt) {
        String body = prompt.substring(0, prompt.length() - "<|assistant|>".length());
        int at = Math.max(Math.max(body.lastIndexOf("<|user|>"), body.lastIndexOf("<|observation|>")), body.lastIndexOf("<|system|>"));
        return body.substring(body.indexOf('\n', at) + 1).strip();
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    HttpRequest.Builder request(String path, String... headers) {
        var b = HttpRequest.newBuilder(URI.create(base() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return b;
    }

    HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).GET());
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json"));
    }

    HttpResponse<String> delete(String path, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).DELETE());
    }

    HttpResponse<String> put(String path, byte[] body, String... headers) throws IOException, InterruptedException {
        return send(request(path, headers).PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** Creates a conversation and returns its id. */
    String conversation(String... headers) throws IOException, InterruptedException {
        HttpResponse<String> r = post("/api/conversations", "", headers);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return json(r).get("id").asText();
    }

    /** Runs a turn and returns its events (the stream's data lines, in order); fails unless the answer is a 200 stream. */
    List<JsonNode> turn(String id, ObjectNode body, String... headers) throws IOException, InterruptedException {
        HttpResponse<String> r = post("/api/conversations/" + id + "/turn", body.toString(), headers);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
        return events(r.body());
    }

    /** The events of a stream: each {@code data:} line one JSON object; comment lines skipped. */
    static List<JsonNode> events(String body) throws IOException {
        var out = new ArrayList<JsonNode>();
        for (String block : body.split("\n\n")) {
            if (block.isEmpty() || block.startsWith(":")) {
                continue;
            }
            assertThat(block).as("one data line per event").startsWith("data: ").doesNotContain("\n");
            out.add(JSON.readTree(block.substring("data: ".length())));
        }
        return out;
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** A turn's request body. */
    static ObjectNode body(String mode, ArrayNode history, String role, String content) {
        ObjectNode b = JSON.createObjectNode().put("mode", mode);
        b.set("history", history == null ? JSON.createArrayNode() : history);
        b.putObject("message").put("role", role).put("content", content);
        return b;
    }

    /** The value of a gauge or counter in /metrics. */
    long metric(String name, String... headers) throws IOException, InterruptedException {
        for (String line : get("/metrics", headers).body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Long.parseLong(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }

    /** {@link #metric} for conditions awaited. */
    long metricNow(String name) {
        try {
            return metric(name);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Command lines of the processes on this machine that contain {@code marker} (e.g. a program a cell started), read
     * from /proc: the JDK's ProcessHandle.Info leaves out processes whose executable it cannot resolve (those in the
     * sandbox's mount namespace).
     */
    static List<String> processesWith(String marker) {
        var found = new ArrayList<String>();
        try (var procs = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc"), "[0-9]*")) {
            for (var pid : procs) {
                try {
                    String cmdline = new String(java.nio.file.Files.readAllBytes(pid.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ').strip();
                    if (cmdline.contains(marker)) {
                        found.add(pid.getFileName() + ": " + cmdline);
                    }
                } catch (IOException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return found;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A clock the test moves. */
    static final class TestClock implements InstantSource {
        private volatile Instant now = Instant.parse("2024-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    @Override
    public void close() {
        server.close();
        scheduler.close();
    }
}
