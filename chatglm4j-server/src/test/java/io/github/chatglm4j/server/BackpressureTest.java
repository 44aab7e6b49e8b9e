package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static io.github.chatglm4j.server.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

/** The bounded queue (503 + Retry-After) and cancellation when a streaming client goes away. */
class BackpressureTest {
    static final String HELLO = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 5}";

    @Test
    void fullQueueAnswers503WithRetryAfterAndLaterRequestsSucceed() throws Exception {
        var model = ScriptedModel.replying(256, Scripts.assistant());
        try (var h = new Harness(model, 1, 1, ServerOptions.local(0))) {
            model.hold();
            CompletableFuture<HttpResponse<String>> a = send(h);
            model.awaitHeld(); // a holds the only slot, inside the model
            CompletableFuture<HttpResponse<String>> b = send(h);
            Await.until("the second request waits in the queue", () -> h.scheduler.stats().waiting() == 1);

            HttpResponse<String> c = h.post("/v1/chat/completions", HELLO);
            assertThat(c.statusCode()).as("third request: %s", c.body()).isEqualTo(503);
            assertThat(c.headers().firstValue("Retry-After")).hasValue("1");
            JsonNode error = json(c).get("error");
            assertThat(error.get("type").asText()).isEqualTo("server_error");
            assertThat(error.get("message").asText()).contains("busy");

            model.release();
            assertThat(a.get().statusCode()).isEqualTo(200);
            assertThat(b.get().statusCode()).isEqualTo(200);
            assertThat(h.get("/metrics").body()).contains("chatglm_requests_rejected_total 1");
        }
    }

    private static CompletableFuture<HttpResponse<String>> send(Harness h) {
        return h.http.sendAsync(HttpRequest.newBuilder(URI.create(h.base() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(HELLO)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void clientThatDisconnectsMidStreamCancelsItsGeneration() throws Exception {
        int limit = 200_000;
        // an endless reply: the same token forever, until the budget
        var model = ScriptedModel.replying(limit + 1000, (prompt, generated) -> 13755);
        try (var h = new Harness(model, 1, 4, ServerOptions.local(0))) {
            try (var socket = new Socket("127.0.0.1", h.server.port())) {
                String body = "{\"stream\": true, \"max_tokens\": " + limit + ", \"messages\": [{\"role\": \"user\", \"content\": \"talk\"}]}";
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + h.server.port() + "\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).startsWith("HTTP/1.1 200");
                int events = 0;
                String line;
                while (events < 5 && (line = in.readLine()) != null) {
                    if (line.contains("data: ")) {
                        events++;
                    }
                }
                assertThat(events).isEqualTo(5);
            } // the client hangs up mid-stream
            Await.until("the generation is cancelled", () -> h.server.finishedCount("cancelled") == 1);
            Await.until("the slot is free", () -> h.scheduler.stats().running() == 0);
            assertThat(model.decodeSteps.get()).as("decode steps run before the cancellation took effect").isLessThan(limit / 2);
            assertThat(h.server.finishedCount("length")).as("the reply did not run to its budget").isZero();
            // the server goes on serving
            assertThat(h.post("/v1/chat/completions", "{\"max_tokens\": 3, \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}").statusCode())
                    .isEqualTo(200);
        }
    }
}
