package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Workers are bounded and reaped: at most --max-workers at once (a turn beyond gets 503), an idle worker is stopped
 * (its files stay), an idle conversation is forgotten with its folder, and so are all of them when the server stops.
 * Time is the test's clock; an API request is the trigger (every request reaps first).
 */
class AgentWorkersTest {
    @TempDir
    Path temp;

    static List<JsonNode> interpreterTurn(AgentHarness h, String id, String message) throws Exception {
        return h.turn(id, AgentHarness.body("interpreter", null, "user", message));
    }

    @Test
    void aTurnBeyondTheWorkerCapIsRefusedUntilAPlaceIsFree() throws Exception {
        Sandboxes.open();
        Path root = Sandboxes.dataDir(temp);
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root).withMaxWorkers(1));
        try (var h = new AgentHarness(options, AgentInterpreterTurnTest.writes(Map.of("one", "1 + 1")))) {
            String first = h.conversation();
            String second = h.conversation();
            assertThat(AgentInterpreterTurnTest.only(interpreterTurn(h, first, "one"), "result").get("observation").asText()).isEqualTo("2");
            assertThat(h.metric("chatglm_agent_workers")).isEqualTo(1);

            HttpResponse<String> refused = h.post("/api/conversations/" + second + "/turn",
                    AgentHarness.body("interpreter", null, "user", "one").toString());
            assertThat(AgentApiHttpTest.error(refused, 503).get("code").asText()).isEqualTo("too_many_workers");
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(h.metric("chatglm_agent_workers_refused_total")).isEqualTo(1);
            assertThat(h.turn(second, AgentHarness.body("chat", null, "user", "one")).getLast().get("outcome").asText())
                    .as("a chat turn needs no worker").isEqualTo("answered");
            assertThat(interpreterTurn(h, first, "one").getLast().get("outcome").asText()).as("the first keeps its worker").isEqualTo("answered");

            assertThat(h.delete("/api/conversations/" + first).statusCode()).isEqualTo(204);
            assertThat(root.resolve(first)).as("deleted with its folder").doesNotExist();
            assertThat(h.metric("chatglm_agent_workers")).isZero();
            assertThat(AgentInterpreterTurnTest.only(interpreterTurn(h, second, "one"), "result").get("observation").asText()).isEqualTo("2");
        }
    }

    @Test
    void idleWorkersStopAndIdleConversationsGoWithTheirFolders() throws Exception {
        Sandboxes.open();
        Path root = Sandboxes.dataDir(temp);
        var clock = new AgentHarness.TestClock();
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root).withClock(clock)
                .withIdleLimits(Duration.ofMinutes(10), Duration.ofHours(1)));
        String id;
        String kept;
        try (var h = new AgentHarness(options, AgentInterpreterTurnTest.writes(Map.of("set", "x = 1", "get", "x")))) {
            id = h.conversation();
            kept = h.conversation();
            assertThat(h.put("/api/conversations/" + id + "/files/a.txt", AgentHarness.utf8("kept")).statusCode()).isEqualTo(201);
            assertThat(h.put("/api/conversations/" + kept + "/files/b.txt", AgentHarness.utf8("b")).statusCode()).isEqualTo(201);
            interpreterTurn(h, id, "set");
            assertThat(h.metric("chatglm_agent_workers")).isEqualTo(1);

            clock.advance(Duration.ofMinutes(9));
            assertThat(h.metric("chatglm_agent_workers")).as("not idle long enough").isEqualTo(1);
            clock.advance(Duration.ofMinutes(2));
            assertThat(h.get("/api/info").statusCode()).isEqualTo(200); // any request reaps
            assertThat(h.metric("chatglm_agent_workers")).as("idle for 11 minutes").isZero();

            String observation = AgentInterpreterTurnTest.only(interpreterTurn(h, id, "get"), "result").get("observation").asText();
            assertThat(observation).as("a new worker: the variables are gone").contains("NameError: name 'x' is not defined");
            assertThat(AgentHarness.json(h.get("/api/conversations/" + id + "/files")).toString()).as("the files stayed")
                    .isEqualTo("{\"files\":[{\"name\":\"a.txt\",\"size\":4}]}");

            clock.advance(Duration.ofMinutes(50)); // 61 min after the other one's upload, 50 after this one's last turn
            assertThat(h.get("/api/conversations/" + kept + "/files").statusCode()).isEqualTo(404);
            assertThat(root.resolve(kept)).as("the idle conversation's folder").doesNotExist();
            assertThat(h.get("/api/conversations/" + id + "/files").statusCode()).as("used 50 minutes ago").isEqualTo(200);
            clock.advance(Duration.ofMinutes(61));
            assertThat(AgentApiHttpTest.error(h.get("/api/conversations/" + id + "/files"), 404).get("code").asText())
                    .isEqualTo("conversation_not_found");
            assertThat(root.resolve(id)).doesNotExist();
            assertThat(h.metric("chatglm_agent_conversations")).isZero();

            id = h.conversation();
            assertThat(h.put("/api/conversations/" + id + "/files/c.txt", AgentHarness.utf8("c")).statusCode()).isEqualTo(201);
            assertThat(root.resolve(id)).isDirectory();
        }
        assertThat(root.resolve(id)).as("the server's stop deletes every conversation's folder").doesNotExist();
        assertThat(root).as("but not a data root it was given").isDirectory();
    }

    @Test
    void withoutTheSandboxAnInterpreterTurnSaysWhyAndTakesNoWorker() throws Exception {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp)
                .withSandbox(SandboxConfig.DEFAULTS.withBwrap(Path.of("/nonexistent/bwrap"))));
        try (var h = new AgentHarness(options, AgentInterpreterTurnTest.writes(Map.of("one", "1 + 1")))) {
            String id = h.conversation();

            List<JsonNode> events = interpreterTurn(h, id, "one");

            assertThat(events).hasSize(1);
            assertThat(events.getFirst().get("code").asText()).isEqualTo("sandbox_unavailable");
            assertThat(events.getFirst().get("message").asText()).contains("/nonexistent/bwrap");
            assertThat(h.metric("chatglm_agent_workers")).isZero();
            assertThat(h.prompts).isEmpty();
            // uploads still work (nothing runs them); the file comes back as it was written
            assertThat(h.put("/api/conversations/" + id + "/files/a.txt", AgentHarness.utf8("plain")).statusCode()).isEqualTo(201);
            assertThat(h.get("/api/conversations/" + id + "/files/a.txt").body()).isEqualTo("plain");
            Files.createSymbolicLink(temp.resolve(id).resolve("link"), temp.resolve(id).resolve("a.txt"));
            assertThat(h.get("/api/conversations/" + id + "/files/link").statusCode()).as("no link is followed").isEqualTo(404);
        }
    }
}
