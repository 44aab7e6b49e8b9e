package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that leaves is noticed by its connection at once, not at the next keep-alive line (issue 10, item 10):
 * whether it waited in the queue or generated, streamed or not. The keep-alive interval is an hour here, so only
 * the connection can have noticed.
 */
class DisconnectTest {
    static final ServerOptions OPTIONS = ServerOptions.local(0).withKeepAlive(Duration.ofHours(1));

    static RawHttp send(Harness h, String body) throws Exception {
        var c = new RawHttp(h.server.port());
        c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + h.server.port() + "\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body);
        return c;
    }

    @Test
    void aQueuedClientThatLeavesIsCancelledBeforeItRuns() throws Exception {
        var model = ScriptedModel.replying(256, ScriptedModel.fixed(Harness.textReply("Hello there", ChatGLMTokenizer.EOS)));
        try (var h = new Harness(model, 1, 4, OPTIONS)) {
            model.hold();
            CompletableFuture<HttpResponse<String>> first = h.http.sendAsync(HttpRequest.newBuilder(URI.create(h.base() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            long promptTokensBefore;
            try {
                model.awaitHeld(); // the only slot is busy, its step held
                int waiting = 0;
                for (String stream : new String[]{"false", "true"}) {
                    RawHttp queued = send(h, "{\"stream\": " + stream + ", \"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}");
                    int expected = ++waiting;
                    Await.until("the request waits in the queue", () -> h.scheduler.stats().waiting() == expected);
                    queued.close();
                    Await.until("the client of the queued request (stream " + stream + ") is seen leaving while the model is held",
                            () -> h.server.clientsGone() == expected);
                }
                promptTokensBefore = h.scheduler.stats().promptTokens();
            } finally {
                model.release();
            }
            assertThat(first.get().statusCode()).isEqualTo(200);
            Await.until("both are counted as cancelled", () -> h.server.finishedCount("cancelled") == 2);
            assertThat(h.scheduler.stats().promptTokens()).as("no prompt of a cancelled request was computed").isEqualTo(promptTokensBefore);
        }
    }

    @Test
    void aNonStreamingClientThatLeavesFreesItsSlot() throws Exception {
        var model = ScriptedModel.replying(400_000, (prompt, generated) -> 13755); // endless
        try (var h = new Harness(model, 1, 4, OPTIONS)) {
            RawHttp c = send(h, "{\"temperature\": 0, \"max_tokens\": 390000, \"messages\": [{\"role\": \"user\", \"content\": \"talk\"}]}");
            Await.until("the request generates", () -> model.decodeSteps.get() > 10);
            c.close();
            Await.until("its leaving is seen", () -> h.server.clientsGone() == 1);
            Await.until("it is cancelled", () -> h.server.finishedCount("cancelled") == 1);
            Await.until("the slot is free", () -> h.scheduler.stats().running() == 0);
            assertThat(h.server.finishedCount("length")).isZero();
        }
    }
}
