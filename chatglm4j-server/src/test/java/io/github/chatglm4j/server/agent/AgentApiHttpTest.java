package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.server.OpenAiServer;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent API as HTTP: /api/info for the page (without the key, while loading), the server's key, Origin and Host
 * rules on every other route, 404/405/409 in the server's error format, and keep-alive comments on a waiting turn.
 */
class AgentApiHttpTest {
    static final String KEY = "sk-agent-test";
    static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    @TempDir
    Path temp;

    AgentApiOptions agentOptions() {
        return AgentApiOptions.DEFAULTS.withDataRoot(temp.resolve("conversations"));
    }

    static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode e = AgentHarness.json(r).get("error");
        assertThat(e.fieldNames()).toIterable().containsExactly("message", "type", "param", "code");
        return e;
    }

    @Test
    void infoAnswersWithoutTheKeyAndWhileTheModelLoads() throws Exception {
        var options = ServerOptions.local(0).withApiKey(KEY).withAgent(agentOptions()
                .withSandbox(SandboxConfig.DEFAULTS.withBwrap(Path.of("/nonexistent/bwrap"))));
        try (OpenAiServer server = OpenAiServer.start(options); HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/info")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode info = AgentHarness.json(r);
            assertThat(info.get("ready").asBoolean()).isFalse();
            assertThat(info.get("model").isNull()).isTrue();
            assertThat(info.get("auth").asBoolean()).isTrue();
            assertThat(info.get("interpreter").get("available").asBoolean()).isFalse();
            assertThat(info.get("interpreter").get("reason").asText()).contains("/nonexistent/bwrap");
            assertThat(server.sandboxProblem()).isEqualTo(info.get("interpreter").get("reason").asText());

            HttpResponse<String> loading = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + "/api/conversations")).header("Authorization", "Bearer " + KEY).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(error(loading, 503).get("code").asText()).isEqualTo("model_loading");
        }
    }

    @Test
    void infoDescribesTheModelTheToolsAndTheDefaults() throws Exception {
        var weather = new WeatherService(true, URI.create("http://127.0.0.1:9"), Duration.ofSeconds(1));
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(agentOptions().withWeather(weather)), p -> AgentHarness.text("hi"))) {
            JsonNode info = AgentHarness.json(h.get("/api/info"));
            assertThat(info.get("ready").asBoolean()).isTrue();
            assertThat(info.get("model").asText()).isEqualTo(AgentHarness.MODEL);
            assertThat(info.get("context").asInt()).isEqualTo(2048);
            assertThat(info.get("auth").asBoolean()).isFalse();
            assertThat(info.get("defaults").toString()).isEqualTo("{\"max_tokens\":256,\"temperature\":0.95,\"top_p\":0.8,\"repetition_penalty\":1.1}");
            assertThat(info.get("system_prompt").asText()).isEqualTo("You are ChatGLM3, a large language model trained by Zhipu.AI. "
                    + "Follow the user's instructions carefully. Respond using markdown.");
            assertThat(info.get("tools")).extracting(t -> t.get("name").asText())
                    .containsExactly("random_number_generator", "get_weather", "get_shell");
            // the first two as chatglm.cpp's function_call.txt shows them (the demo's registry)
            JsonNode reference = AgentHarness.JSON.readTree(Reference.FUNCTION_CALL_TXT.substring(Reference.FUNCTION_CALL_TXT.indexOf('\n')));
            assertThat(info.get("tools").get(0)).isEqualTo(reference.get("random_number_generator"));
            assertThat(info.get("tools").get(1)).isEqualTo(reference.get("get_weather"));
            assertThat(info.get("max_rounds").asInt()).isEqualTo(5);
            assertThat(info.get("max_upload").asLong()).isEqualTo(64L << 20);
        }
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(agentOptions()), p -> AgentHarness.text("hi"))) {
            assertThat(AgentHarness.json(h.get("/api/info")).get("tools")).as("get_weather only when the server allows it")
                    .extracting(t -> t.get("name").asText()).containsExactly("random_number_generator", "get_shell");
        }
    }

    @Test
    void everyOtherRouteNeedsTheKeyAndStaysOutOfReachOfOtherSites() throws Exception {
        try (var h = new AgentHarness(ServerOptions.local(0).withApiKey(KEY).withAgent(agentOptions()), p -> AgentHarness.text("hi"))) {
            assertThat(AgentHarness.json(h.get("/api/info")).get("auth").asBoolean()).isTrue();
            assertThat(error(h.post("/api/conversations", ""), 401).get("code").asText()).isEqualTo("invalid_api_key");
            assertThat(error(h.post("/api/conversations", "", "Authorization", "Bearer wrong"), 401).get("code").asText())
                    .isEqualTo("invalid_api_key");
            String id = h.conversation(AUTH);
            for (HttpResponse<String> r : List.of(
                    h.get("/api/conversations/" + id + "/files"),
                    h.put("/api/conversations/" + id + "/files/a.txt", AgentHarness.utf8("x")),
                    h.post("/api/conversations/" + id + "/turn", AgentHarness.body("chat", null, "user", "hi").toString()),
                    h.post("/api/conversations/" + id + "/stop", ""),
                    h.delete("/api/conversations/" + id))) {
                assertThat(error(r, 401).get("code").asText()).isEqualTo("invalid_api_key");
            }
            // a page of another site: refused before anything runs, key or not
            for (HttpResponse<String> r : List.of(
                    h.post("/api/conversations", "", "Authorization", "Bearer " + KEY, "Origin", "http://evil.example"),
                    h.put("/api/conversations/" + id + "/files/a.txt", AgentHarness.utf8("x"), "Authorization", "Bearer " + KEY, "Origin", "http://evil.example"),
                    h.delete("/api/conversations/" + id, "Authorization", "Bearer " + KEY, "Origin", "http://evil.example"))) {
                assertThat(error(r, 403).get("code").asText()).isEqualTo("cors_origin_not_allowed");
            }
            assertThat(h.metric("chatglm_agent_conversations", AUTH)).as("nothing was created or deleted").isEqualTo(1);
            // the server's own page may
            String own = "http://127.0.0.1:" + h.server.port();
            assertThat(h.post("/api/conversations", "", "Authorization", "Bearer " + KEY, "Origin", own).statusCode()).isEqualTo(201);
            assertThat(h.delete("/api/conversations/" + id, "Authorization", "Bearer " + KEY, "Origin", own).statusCode()).isEqualTo(204);
        }
    }

    @Test
    void unknownConversationsPathsAndMethodsAreAnsweredInTheServersErrorFormat() throws Exception {
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(agentOptions()), p -> AgentHarness.text("hi"))) {
            String gone = h.conversation();
            assertThat(h.delete("/api/conversations/" + gone).statusCode()).isEqualTo(204);
            for (String id : new String[]{gone, "c-00000000000000000000000000000000", "nope", "..", "c-" + "0".repeat(31) + "G"}) {
                for (HttpResponse<String> r : List.of(
                        h.post("/api/conversations/" + id + "/turn", AgentHarness.body("chat", null, "user", "hi").toString()),
                        h.get("/api/conversations/" + id + "/files"),
                        h.get("/api/conversations/" + id + "/files/a.txt"),
                        h.put("/api/conversations/" + id + "/files/a.txt", AgentHarness.utf8("x")),
                        h.post("/api/conversations/" + id + "/stop", ""),
                        h.delete("/api/conversations/" + id))) {
                    assertThat(error(r, 404).get("code").asText()).as(id).isEqualTo("conversation_not_found");
                }
            }
            assertThat(error(h.get("/api/nothing"), 404).get("code").asText()).isEqualTo("unknown_url");
            assertThat(error(h.get("/api/conversations/" + h.conversation() + "/turns"), 404).get("code").asText()).isEqualTo("unknown_url");
            HttpResponse<String> wrong = h.get("/api/conversations");
            assertThat(error(wrong, 405).get("code").asText()).isEqualTo("method_not_allowed");
            assertThat(wrong.headers().firstValue("Allow")).hasValue("POST, OPTIONS");
            assertThat(error(h.post("/api/conversations/" + h.conversation() + "/files", ""), 405).get("code").asText())
                    .isEqualTo("method_not_allowed");
            assertThat(h.get("/metrics").body()).contains("chatglm_http_requests_total{route=\"api_conversation\",status=\"404\"}");
        }
    }

    @Test
    void badTurnRequestsAre400sNamingTheField() throws Exception {
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(agentOptions()), p -> AgentHarness.text("hi"))) {
            String id = h.conversation();
            String[][] cases = {
                    {"{\"mode\": \"talk\", \"message\": {\"content\": \"hi\"}}", "mode"},
                    {"{\"mode\": \"chat\"}", "message"},
                    {"{\"mode\": \"chat\", \"message\": {\"role\": \"assistant\", \"content\": \"hi\"}}", "message.role"},
                    {"{\"mode\": \"chat\", \"history\": [{\"role\": \"robot\", \"content\": \"x\"}], \"message\": {\"content\": \"hi\"}}", "history[0].role"},
                    {"{\"mode\": \"chat\", \"history\": [{\"role\": \"assistant\", \"metadata\": \"a\\nb\", \"content\": \"x\"}], \"message\": {\"content\": \"hi\"}}", "history[0].metadata"},
                    {"{\"mode\": \"chat\", \"message\": {\"role\": \"observation\", \"content\": \"42\"}}", "message.role"},
                    {"{\"mode\": \"tool\", \"message\": {\"content\": \"hi\"}}", "tools"},
                    {"{\"mode\": \"tool\", \"tools\": {\"builtin\": [\"rm_rf\"]}, \"message\": {\"content\": \"hi\"}}", "tools.builtin[0]"},
                    {"{\"mode\": \"tool\", \"tools\": {\"builtin\": [\"get_weather\"]}, \"message\": {\"content\": \"hi\"}}", "tools.builtin[0]"},
                    {"{\"mode\": \"tool\", \"tools\": {\"definitions\": \"- name: [x\"}, \"manual\": true, \"message\": {\"content\": \"hi\"}}", "tools.definitions"},
                    {"{\"mode\": \"tool\", \"tools\": {\"definitions\": \"[{\\\"name\\\": \\\"x\\\"}]\"}, \"message\": {\"content\": \"hi\"}}", "manual"},
                    {"{\"mode\": \"chat\", \"sampling\": {\"temperature\": 3}, \"message\": {\"content\": \"hi\"}}", "temperature"},
                    {"{\"mode\": \"chat\", \"sampling\": {\"max_tokens\": 0}, \"message\": {\"content\": \"hi\"}}", "max_tokens"},
                    {"[]", null},
            };
            for (String[] c : cases) {
                JsonNode e = error(h.post("/api/conversations/" + id + "/turn", c[0]), 400);
                assertThat(e.get("param").isNull() ? null : e.get("param").asText()).as(c[0] + ": " + e).isEqualTo(c[1]);
            }
            assertThat(h.prompts).as("nothing reached the model").isEmpty();
        }
    }

    @Test
    void aSecondTurnWaitsForTheFirstAndAWaitingTurnGetsKeepAliveComments() throws Exception {
        var options = ServerOptions.local(0).withKeepAlive(Duration.ofMillis(20)).withAgent(agentOptions());
        try (var h = new AgentHarness(options, p -> AgentHarness.text("Hello!"))) {
            String id = h.conversation();
            h.model.hold();
            CompletableFuture<List<String>> lines;
            try {
                HttpResponse<Stream<String>> r = h.http.send(h.request("/api/conversations/" + id + "/turn")
                        .POST(HttpRequest.BodyPublishers.ofString(AgentHarness.body("chat", null, "user", "hi").toString())).build(),
                        HttpResponse.BodyHandlers.ofLines());
                assertThat(r.statusCode()).isEqualTo(200);
                var it = r.body().iterator();
                h.model.awaitHeld();
                assertThat(it.next()).as("a comment while the model is busy").isEqualTo(": keep-alive");
                JsonNode busy = error(h.post("/api/conversations/" + id + "/turn", AgentHarness.body("chat", null, "user", "again").toString()), 409);
                assertThat(busy.get("code").asText()).isEqualTo("turn_in_progress");
                lines = CompletableFuture.supplyAsync(() -> {
                    var rest = new java.util.ArrayList<String>();
                    it.forEachRemaining(rest::add);
                    return rest;
                });
            } finally {
                h.model.release();
            }
            List<String> data = lines.get().stream().filter(l -> l.startsWith("data: ")).toList();
            assertThat(data.getLast()).startsWith("data: {\"type\":\"done\",\"outcome\":\"answered\"");
        }
    }
}
