package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Sandboxes;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Interpreter mode with the real sandbox: the code the model writes runs in the conversation's worker, its output and
 * figures come back, a cell past the timeout is interrupted.
 */
class AgentInterpreterTurnTest {
    static final String DONE = "Done.";

    @TempDir
    Path temp;
    Path root;

    @BeforeEach
    void checkSandbox() {
        Sandboxes.open(); // these tests need it: fails with what to install
        root = Sandboxes.dataDir(temp);
    }

    /** The model writes {@code code} for a user message, and answers "Done." once it has seen a result. */
    static java.util.function.Function<String, int[]> writes(Map<String, String> codeFor) {
        return prompt -> {
            if (prompt.substring(prompt.lastIndexOf("<|", prompt.length() - "<|assistant|>".length() - 1)).startsWith("<|observation|>")) {
                return AgentHarness.text(DONE);
            }
            String code = codeFor.get(AgentHarness.lastMessage(prompt));
            return code == null ? AgentHarness.text("?") : AgentHarness.code(code);
        };
    }

    ServerOptions options() {
        return ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root));
    }

    static JsonNode only(List<JsonNode> events, String type) {
        List<JsonNode> found = events.stream().filter(e -> e.get("type").asText().equals(type)).toList();
        assertThat(found).as("one " + type + " event in " + events).hasSize(1);
        return found.getFirst();
    }

    @Test
    void theReferencesCodeInterpreterCaseRunsAndItsResultIsPromptedIdForId() throws Exception {
        // cases.json chat 6: the interpreter prompt, "计算 2 的 100 次方", the model's code, and the printed number
        JsonNode chat = Fixtures.chats().get(6);
        String question = chat.get("history").get(1).get("content").asText();
        String fenced = chat.get("history").get(2).get("content").asText();
        try (var h = new AgentHarness(options(), p -> p.endsWith(question + "<|assistant|>") ? AgentHarness.call("interpreter", fenced)
                : AgentHarness.text(DONE))) {
            List<JsonNode> events = h.turn(h.conversation(), AgentHarness.body("interpreter", null, "user", question));

            assertThat(events.getFirst().toString()).isEqualTo("{\"type\":\"call_start\",\"round\":1,\"name\":\"interpreter\"}");
            JsonNode call = only(events, "call");
            assertThat(call.get("code").asText()).isEqualTo("print(2 ** 100)\n");
            assertThat(call.get("arguments").isNull()).isTrue();
            assertThat(only(events, "status").get("message").asText()).isEqualTo("running the code");
            JsonNode result = only(events, "result");
            assertThat(result.get("name").asText()).isEqualTo("interpreter");
            assertThat(result.get("observation").asText()).isEqualTo(chat.get("query").asText());
            assertThat(result.get("display").asText()).isEqualTo(chat.get("query").asText() + "\n");
            assertThat(result.get("failed").asBoolean()).isFalse();
            assertThat(h.prompts.get(1)).containsExactly(Fixtures.ints(chat.get("ids")));
            JsonNode done = events.getLast();
            assertThat(done.get("outcome").asText()).isEqualTo("answered");
            assertThat(done.get("history").get(1).get("metadata").asText()).isEqualTo("interpreter");
            assertThat(done.get("history")).extracting(m -> m.get("role").asText())
                    .containsExactly("user", "assistant", "observation", "assistant");
        }
    }

    @Test
    void aFigureArrivesAsAPng() throws Exception {
        String plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint('plotted')";
        try (var h = new AgentHarness(options(), writes(Map.of("plot it", plot)))) {
            List<JsonNode> events = h.turn(h.conversation(), AgentHarness.body("interpreter", null, "user", "plot it"));

            JsonNode result = only(events, "result");
            assertThat(result.get("observation").asText()).isEqualTo("plotted\n[Image]");
            assertThat(result.get("images")).hasSize(1);
            byte[] png = Base64.getDecoder().decode(result.get("images").get(0).asText());
            // a PNG: the signature, then the IHDR chunk with the figure's size (matplotlib's default 640x480)
            var in = new DataInputStream(new ByteArrayInputStream(png));
            assertThat(in.readLong()).isEqualTo(0x89504E470D0A1A0AL);
            assertThat(in.readInt()).isEqualTo(13);
            assertThat(in.readInt()).isEqualTo(0x49484452);
            assertThat(in.readInt()).isEqualTo(640);
            assertThat(in.readInt()).isEqualTo(480);
            assertThat(events.getLast().get("outcome").asText()).isEqualTo("answered");
        }
    }

    @Test
    void aCellPastTheTimeoutIsInterruptedAndTheModelIsTold() throws Exception {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(root).withCellTimeout(Duration.ofSeconds(1)));
        try (var h = new AgentHarness(options, writes(Map.of("wait", "import time\nx = 42\ntime.sleep(600)", "again", "x")))) {
            String id = h.conversation();
            List<JsonNode> events = h.turn(id, AgentHarness.body("interpreter", null, "user", "wait"));

            JsonNode result = only(events, "result");
            assertThat(result.get("timed_out").asBoolean()).isTrue();
            assertThat(result.get("failed").asBoolean()).isTrue();
            assertThat(result.get("restarted").asBoolean()).isFalse();
            assertThat(result.get("observation").asText()).contains("KeyboardInterrupt")
                    .endsWith("Timed out after 1 s: the cell was interrupted (variables and files are kept).");
            assertThat(events.getLast().get("outcome").asText()).isEqualTo("answered");

            List<JsonNode> next = h.turn(id, AgentHarness.body("interpreter", (ArrayNode) events.getLast().get("history"), "user", "again"));
            assertThat(only(next, "result").get("observation").asText()).as("the same worker, its variables kept").isEqualTo("42");
        }
    }
}
