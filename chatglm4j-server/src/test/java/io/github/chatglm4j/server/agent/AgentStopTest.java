package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.server.ServerOptions;
import io.github.chatglm4j.testing.Await;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A running cell is interrupted when the page stops the turn (the Stop request) or goes away (the connection closes):
 * the cell ends, the program it started with it, and the worker stays for the next turn.
 */
class AgentStopTest {
    /** Starts a program, says so with a file, then waits: only an interrupt ends it. */
    static final String LONG_CELL = "import subprocess, time\nchild = subprocess.Popen(['sleep', '%d'])\nx = 'kept'\n"
            + "open('/mnt/data/started', 'w').close()\ntime.sleep(600)";

    @TempDir
    Path temp;
    Path root;

    @BeforeEach
    void checkSandbox() {
        Sandboxes.open();
        root = Sandboxes.dataDir(temp);
    }

    AgentHarness harness(int marker) {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root));
        return new AgentHarness(options, AgentInterpreterTurnTest.writes(Map.of("wait", LONG_CELL.formatted(marker), "again", "x")));
    }

    void awaitStarted(String id, int marker) {
        Await.until("the cell started its program", () -> Files.exists(root.resolve(id).resolve("started")));
        Await.until("the cell's program shows in /proc", () -> !AgentHarness.processesWith("sleep " + marker).isEmpty());
    }

    @Test
    void theStopRequestInterruptsTheRunningCellAndTheStreamEnds() throws Exception {
        int marker = 7771;
        try (var h = harness(marker)) {
            String id = h.conversation();
            CompletableFuture<HttpResponse<Stream<String>>> response = h.http.sendAsync(h.request("/api/conversations/" + id + "/turn")
                    .POST(HttpRequest.BodyPublishers.ofString(AgentHarness.body("interpreter", null, "user", "wait").toString())).build(),
                    HttpResponse.BodyHandlers.ofLines());
            awaitStarted(id, marker);

            assertThat(h.post("/api/conversations/" + id + "/stop", "").statusCode()).isEqualTo(204);

            var events = new ArrayList<JsonNode>();
            for (String line : (Iterable<String>) response.get().body()::iterator) {
                if (line.startsWith("data: ")) {
                    events.add(AgentHarness.JSON.readTree(line.substring(6)));
                }
            }
            JsonNode done = events.getLast();
            assertThat(done.get("outcome").asText()).isEqualTo("cancelled");
            assertThat(events).noneMatch(e -> e.get("type").asText().equals("result"));
            assertThat(AgentHarness.processesWith("sleep " + marker)).as("the cell's program ended with it").isEmpty();
            assertThat(h.metric("chatglm_agent_turns_running")).isZero();

            List<JsonNode> next = h.turn(id, AgentHarness.body("interpreter", (com.fasterxml.jackson.databind.node.ArrayNode) done.get("history"), "user", "again"));
            assertThat(AgentInterpreterTurnTest.only(next, "result").get("observation").asText())
                    .as("the worker lived on, the cell's variables with it").isEqualTo("'kept'");
        }
    }

    @Test
    void aClientThatLeavesInterruptsTheRunningCell() throws Exception {
        int marker = 7772;
        try (var h = harness(marker)) {
            String id = h.conversation();
            byte[] body = AgentHarness.utf8(AgentHarness.body("interpreter", null, "user", "wait").toString());
            try (var socket = new Socket("127.0.0.1", h.server.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /api/conversations/" + id + "/turn HTTP/1.1\r\nHost: 127.0.0.1:" + h.server.port()
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
                awaitStarted(id, marker);
            } // the page closed the tab

            Await.until("the turn ended", () -> h.metricNow("chatglm_agent_turns_running") == 0);
            assertThat(AgentHarness.processesWith("sleep " + marker)).as("the cell's program ended with it").isEmpty();
            assertThat(h.metric("chatglm_agent_workers")).as("the worker stays for the next turn").isEqualTo(1);
        }
    }
}
