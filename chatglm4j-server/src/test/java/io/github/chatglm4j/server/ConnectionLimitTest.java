package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.server.http.HttpLimits;
import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Idle and slow connections cannot exhaust the server (issue 10, item 3): past the cap a client gets a short 503 in
 * OpenAI's format that says why, the connections it has keep working, and a freed place is taken by the next client.
 */
class ConnectionLimitTest {
    @Test
    void connectionsOverTheCapGetAClear503AndThePlacesComeBack() throws Exception {
        var options = ServerOptions.local(0).withLimits(HttpLimits.defaults().withMaxConnections(3));
        try (var h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(Harness.textReply("Hi", ChatGLMTokenizer.EOS))), 1, 4, options)) {
            String health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + h.server.port() + "\r\n\r\n";
            List<RawHttp> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                RawHttp c = new RawHttp(h.server.port()).send(health);
                assertThat(c.read().status()).isEqualTo(200); // accepted and kept alive
                held.add(c);
            }
            try (var refused = new RawHttp(h.server.port())) {
                refused.send(health);
                RawHttp.Response r = refused.read();
                JsonNode error = HttpProtocolTest.openAiError(r, 503);
                assertThat(error.get("code").asText()).isEqualTo("too_many_connections");
                assertThat(r.header("Retry-After")).isEqualTo("1");
                assertThat(refused.closedByServer()).isTrue();
            }
            RawHttp first = held.getFirst();
            first.send(health);
            assertThat(first.read().status()).as("held connections keep working").isEqualTo(200);
            first.close();
            Await.until("the closed connection's place is free", () -> h.server.openConnections() == 2);
            try (var next = new RawHttp(h.server.port())) {
                next.send(health);
                assertThat(next.read().status()).isEqualTo(200);
            }
            // the metrics request below needs a place too: wait until the server has seen this client leave
            Await.until("the next connection's place is free", () -> h.server.openConnections() == 2);
            assertThat(h.get("/metrics").body()).as("refusals are counted").contains("chatglm_http_connections_refused_total 1");
            for (RawHttp c : held) {
                c.close();
            }
        }
    }
}
