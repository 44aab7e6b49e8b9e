package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.testing.Gate;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.github.chatglm4j.server.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The work a request causes before it is queued is bounded (issue 10, item 2): deep JSON is refused while parsing,
 * text that cannot fit the context is refused before it is rendered or tokenized, and the parsing and tokenizing run
 * on the admission threads, so /health and /metrics answer while huge requests are being worked on.
 */
class AdmissionTest {
    static final int[] REPLY = Harness.textReply("Hello there", ChatGLMTokenizer.EOS);

    @Test
    void healthAndMetricsAnswerWhileHugeRequestsAreParsedAndTokenized() throws Exception {
        Gate gate = new Gate();
        AtomicBoolean onVirtualThread = new AtomicBoolean();
        ExecutorService workers = Executors.newFixedThreadPool(2, r -> Thread.ofPlatform().daemon().unstarted(() -> {
            onVirtualThread.compareAndSet(false, Thread.currentThread().isVirtual());
            r.run();
        }));
        // every piece of admission work waits at the gate first: the workers are busy for as long as the test says
        ExecutorService gated = gated(workers, gate);
        var options = ServerOptions.local(0).withMaxBodyBytes(9 << 20);
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)), 1, 4, options,
                new Admission(gated, 16, Duration.ofMinutes(5)))) {
            gate.hold();
            String huge = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "word ".repeat(1_600_000) + "\"}]}"; // 8 MB
            List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pending.add(h.http.sendAsync(HttpRequest.newBuilder(URI.create(h.base() + "/v1/chat/completions"))
                        .POST(HttpRequest.BodyPublishers.ofString(huge)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            gate.awaitHeld(); // a worker holds a huge request
            assertThat(h.get("/health").statusCode()).as("/health while huge requests are admitted").isEqualTo(200);
            assertThat(h.get("/metrics").statusCode()).as("/metrics too").isEqualTo(200);
            assertThat(h.get("/v1/models").statusCode()).isEqualTo(200);
            gate.release();
            for (var f : pending) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
                JsonNode error = json(r).get("error");
                assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
                assertThat(error.get("message").asText()).as("refused by its length in characters, before tokenizing").contains("characters");
            }
            assertThat(onVirtualThread.get()).as("admission work runs on platform threads, not on the carriers of the connections").isFalse();
        }
    }

    @Test
    void aRequestThatCannotBeAdmittedInTimeOrFindsTheStageFullGets503() throws Exception {
        Gate gate = new Gate();
        ExecutorService workers = Executors.newFixedThreadPool(1);
        var admission = new Admission(gated(workers, gate), 1, Duration.ofMillis(200));
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)), 1, 4, ServerOptions.local(0), admission)) {
            gate.hold();
            String hello = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
            HttpResponse<String> late = h.post("/v1/chat/completions", hello); // held past its deadline
            assertThat(late.statusCode()).as(late.body()).isEqualTo(503);
            assertThat(json(late).get("error").get("message").asText()).contains("longer than");
            assertThat(late.headers().firstValue("Retry-After")).isPresent();
            gate.awaitHeld();
            gate.release();
        }
        Gate second = new Gate();
        ExecutorService one = Executors.newFixedThreadPool(1);
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)), 1, 4, ServerOptions.local(0),
                new Admission(gated(one, second), 1, Duration.ofMinutes(5)))) {
            second.hold();
            String hello = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
            CompletableFuture<HttpResponse<String>> first = h.http.sendAsync(HttpRequest.newBuilder(URI.create(h.base() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(hello)).build(), HttpResponse.BodyHandlers.ofString());
            second.awaitHeld(); // the one place of the stage is taken
            HttpResponse<String> full = h.post("/v1/chat/completions", hello);
            assertThat(full.statusCode()).as(full.body()).isEqualTo(503);
            assertThat(json(full).get("error").get("code").asText()).isEqualTo("server_busy");
            second.release();
            assertThat(first.get().statusCode()).isEqualTo(200);
        }
    }

    /** Runs every task on {@code workers} after it passes {@code gate}. */
    static ExecutorService gated(ExecutorService workers, Gate gate) {
        return new java.util.concurrent.AbstractExecutorService() {
            @Override
            public void execute(Runnable command) {
                workers.execute(() -> {
                    gate.pass();
                    command.run();
                });
            }

            @Override
            public void shutdown() {
                workers.shutdown();
            }

            @Override
            public List<Runnable> shutdownNow() {
                return workers.shutdownNow();
            }

            @Override
            public boolean isShutdown() {
                return workers.isShutdown();
            }

            @Override
            public boolean isTerminated() {
                return workers.isTerminated();
            }

            @Override
            public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit) throws InterruptedException {
                return workers.awaitTermination(timeout, unit);
            }
        };
    }

    @Test
    void toolsNestedHundredsOfLevelsDeepAreRefusedWhileParsing() throws Exception {
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)))) {
            String schema = "{\"type\": \"object\"}";
            for (int i = 0; i < 990; i++) {
                schema = "{\"type\": \"object\", \"properties\": {\"x\": " + schema + "}}";
            }
            String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{\"type\": \"function\", "
                    + "\"function\": {\"name\": \"f\", \"parameters\": " + schema + "}}]}";
            HttpResponse<String> r = h.post("/v1/chat/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(json(r).get("error").get("message").asText()).contains("nested deeper than 64 levels");
        }
    }

    @Test
    void toolsThatRenderLongerThanTheContextAreRefusedBeforeRendering() throws Exception {
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(REPLY)))) {
            // 50 levels (allowed), with many small arrays at the bottom: each becomes a line of ~200 spaces of indent
            String leaf = "[" + "[],".repeat(20_000) + "[]]";
            String schema = leaf;
            for (int i = 0; i < 50; i++) {
                schema = "[" + schema + "]";
            }
            String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [{\"type\": \"function\", "
                    + "\"function\": {\"name\": \"f\", \"parameters\": {\"enum\": " + schema + "}}}]}";
            HttpResponse<String> r = h.post("/v1/chat/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            JsonNode error = json(r).get("error");
            assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
            assertThat(error.get("message").asText()).contains("characters");
        }
    }
}
