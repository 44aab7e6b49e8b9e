package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.generate.StepModel;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static io.github.chatglm4j.testing.Numbers.concat;

/** A real server on an ephemeral loopback port over a real scheduler, and a raw HTTP client for it. */
final class Harness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "test-model";
    private static ChatGLMTokenizer tokenizer;

    final OpenAiServer server;
    final BatchScheduler scheduler;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    Harness(StepModel model, int slots, int queue, ServerOptions options) {
        this(model, slots, queue, OpenAiServer.start(options));
    }

    /** With a given admission stage (a test that holds its workers). */
    Harness(StepModel model, int slots, int queue, ServerOptions options, Admission admission) {
        this(model, slots, queue, OpenAiServer.start(options, admission));
    }

    private Harness(StepModel model, int slots, int queue, OpenAiServer server) {
        this.server = server;
        this.scheduler = new BatchScheduler(model, tokenizer(), slots, queue);
        server.ready(new Backend(MODEL, tokenizer(), new PromptBuilder(tokenizer()), scheduler, 1_700_000_000L));
    }

    Harness(StepModel model) {
        this(model, 2, 8, ServerOptions.local(0));
    }

    static Path fixtures() {
        return Fixtures.root();
    }

    static synchronized ChatGLMTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ChatGLMTokenizer.load(fixtures().resolve("tiny-chatglm3/tokenizer.model"));
        }
        return tokenizer;
    }

    /** The ids ChatGLM3 generates for a plain answer: the empty metadata line's newline, then the text. */
    static int[] textReply(String text, int stop) {
        return concat(tokenizer().encode("\n"), tokenizer().encode(text), new int[]{stop});
    }

    /** The ids of a tool call: the name line, then the fenced call, then {@code <|observation|>}. */
    static int[] callReply(String name, String fencedBody) {
        return concat(tokenizer().encode(name + "\n"), tokenizer().encode(fencedBody), new int[]{ChatGLMTokenizer.OBSERVATION});
    }

    String base() {
        return "http://127.0.0.1:" + server.port();
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(URI.create(base() + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(URI.create(base() + path)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** The {@code data:} payloads of an event stream, in order (the last is {@code [DONE]}). */
    static List<String> events(String body) {
        List<String> out = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (block.isEmpty()) {
                continue;
            }
            if (!block.startsWith("data: ") || block.indexOf('\n') >= 0) {
                throw new AssertionError("not a single-line data event: " + block);
            }
            out.add(block.substring("data: ".length()));
        }
        return out;
    }

    @Override
    public void close() {
        server.close();
        scheduler.close();
    }
}
