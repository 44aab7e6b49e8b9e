package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.agent.testing.Reference.Turn;
import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tool mode: the built-in random_number_generator runs and its result (CPython's number for the seed) goes back to the
 * model; manual mode ends the turn at the call and the user's observation continues it. Every prompt is compared, id
 * for id, with the reference's build_chat_input (written out independently, or the reference's own cases), with the
 * tool names of earlier calls intact when the page replays the history.
 */
class AgentToolTurnTest {
    static final String QUESTION = "生成一个随机数";
    static final String THANKS = "Thanks!";
    /** CPython's random.Random(42).randint(0, 100), the demo's example call (src/test/python/make_tool_oracle.py). */
    static final JsonNode RANDINT = Fixtures.pythonOracle().get("randint").get(0);
    static final String CALL = "```python\ntool_call(seed=" + RANDINT.get("seed").asText() + ", range=(" + RANDINT.get("a").asText()
            + ", " + RANDINT.get("b").asText() + "))\n```";
    static final String ANSWER = "The random number is " + RANDINT.get("value").asText() + ".";

    @TempDir
    Path temp;

    ServerOptions options() {
        // get_weather is offered (so the tools are function_call.txt's) but never called: nothing listens there
        var weather = new WeatherService(true, URI.create("http://127.0.0.1:9"), Duration.ofSeconds(1));
        return ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp).withWeather(weather));
    }

    static int[] reply(String prompt) {
        String last = AgentHarness.lastMessage(prompt);
        if (last.equals(QUESTION)) {
            return AgentHarness.call("random_number_generator", CALL);
        }
        return AgentHarness.text(last.equals(THANKS) ? "You are welcome." : ANSWER);
    }

    static ObjectNode builtinTurn(ArrayNode history, String message) {
        ObjectNode body = AgentHarness.body("tool", history, "user", message);
        body.putObject("tools").putArray("builtin").add("random_number_generator").add("get_weather");
        return body;
    }

    static List<String> summary(List<JsonNode> events) {
        var out = new ArrayList<String>();
        var text = new StringBuilder();
        for (JsonNode e : events) {
            String type = e.get("type").asText();
            if (type.equals("text") || type.equals("code")) {
                text.append(e.get("text").asText());
                continue;
            }
            if (!text.isEmpty()) {
                out.add("text " + text);
                text.setLength(0);
            }
            out.add(switch (type) {
                case "call_start" -> "call_start " + e.get("round") + " " + e.get("name").asText();
                case "call" -> "call " + e.get("round") + " " + e.get("name").asText() + " " + e.get("arguments") + " code=" + e.get("code")
                        + " error=" + e.get("error");
                case "status" -> "status " + e.get("round") + " " + e.get("message").asText();
                case "result" -> "result " + e.get("round") + " " + e.get("name").asText() + " " + e.get("observation").asText()
                        + " failed=" + e.get("failed") + " timed_out=" + e.get("timed_out") + " restarted=" + e.get("restarted");
                case "done" -> "done " + e.get("outcome").asText();
                default -> e.toString();
            });
        }
        return out;
    }

    @Test
    void aBuiltinToolRunsAndTheModelAnswersWithItsResult() throws Exception {
        try (var h = new AgentHarness(options(), AgentToolTurnTest::reply)) {
            String id = h.conversation();

            List<JsonNode> events = h.turn(id, builtinTurn(null, QUESTION));

            String value = RANDINT.get("value").asText();
            assertThat(summary(events)).containsExactly(
                    "call_start 1 random_number_generator",
                    "text " + CALL,
                    "call 1 random_number_generator {\"seed\":42,\"range\":[0,100]} code=null error=null",
                    "status 1 calling random_number_generator",
                    "result 1 random_number_generator " + value + " failed=false timed_out=false restarted=false",
                    "text " + ANSWER,
                    "done answered");
            JsonNode result = events.stream().filter(e -> e.get("type").asText().equals("result")).findFirst().orElseThrow();
            assertThat(result.get("display").asText()).isEqualTo(value);
            assertThat(result.get("images")).isEmpty();
            assertThat(result.get("files")).isEmpty();
            JsonNode done = events.getLast();
            assertThat(done.get("history").toString()).isEqualTo("[{\"role\":\"user\",\"content\":\"" + QUESTION + "\",\"metadata\":\"\"},"
                    + "{\"role\":\"assistant\",\"content\":" + AgentHarness.JSON.writeValueAsString(CALL) + ",\"metadata\":\"random_number_generator\"},"
                    + "{\"role\":\"observation\",\"content\":\"" + value + "\",\"metadata\":\"\"},"
                    + "{\"role\":\"assistant\",\"content\":\"" + ANSWER + "\",\"metadata\":\"\"}]");

            var expected = new ArrayList<>(List.of(Turn.of("system", Reference.FUNCTION_CALL_TXT), Turn.of("user", QUESTION)));
            assertThat(h.prompts.get(0)).containsExactly(Reference.buildChatInput(expected));
            expected.add(new Turn("assistant", "random_number_generator", CALL));
            expected.add(Turn.of("observation", value));
            assertThat(h.prompts.get(1)).containsExactly(Reference.buildChatInput(expected));

            // the page sends the history back: the call keeps its tool name
            h.turn(id, builtinTurn((ArrayNode) done.get("history"), THANKS));

            expected.add(Turn.of("assistant", ANSWER));
            expected.add(Turn.of("user", THANKS));
            assertThat(h.prompts.get(2)).containsExactly(Reference.buildChatInput(expected));
            assertThat(h.prompts).hasSize(3);
        }
    }

    /** cases.json chats 4 and 5: tools declared in OpenAI's flat shape, a call of track, and the user's observation. */
    @Test
    void manualModeEndsAtTheCallAndTheUsersObservationContinuesIt() throws Exception {
        JsonNode call = Fixtures.chats().get(4);
        JsonNode observed = Fixtures.chats().get(5);
        String trackCall = observed.get("history").get(2).get("content").asText().strip();
        String price = observed.get("query").asText();
        try (var h = new AgentHarness(options(), prompt -> AgentHarness.lastMessage(prompt).equals(price)
                ? AgentHarness.text("股票10111的价格是12412。") : AgentHarness.call("track", trackCall))) {
            String id = h.conversation();
            ObjectNode first = AgentHarness.body("tool", null, "user", call.get("query").asText()).put("manual", true);
            first.putObject("tools").put("definitions", call.get("history").get(0).get("tools").toString());

            List<JsonNode> events = h.turn(id, first);

            assertThat(h.prompts.getFirst()).as("the reference's prompt for these tools").containsExactly(Fixtures.ints(call.get("ids")));
            assertThat(summary(events)).containsExactly(
                    "call_start 1 track",
                    "text " + trackCall,
                    "call 1 track {\"symbol\":\"10111\"} code=null error=null",
                    "done awaiting_observation");
            JsonNode history = events.getLast().get("history");
            assertThat(history.get(1).get("metadata").asText()).isEqualTo("track");

            ObjectNode second = AgentHarness.body("tool", (ArrayNode) history, "observation", price).put("manual", true);
            second.set("tools", first.get("tools"));
            List<JsonNode> more = h.turn(id, second);

            assertThat(summary(more)).containsExactly("text 股票10111的价格是12412。", "done answered");
            String system = ChatMessage.TOOLS_PROMPT + "\n" + pythonJsonDumps(call.get("history").get(0).get("tools"));
            assertThat(h.prompts.get(1)).containsExactly(Reference.buildChatInput(List.of(Turn.of("system", system),
                    Turn.of("user", call.get("query").asText()), new Turn("assistant", "track", trackCall), Turn.of("observation", price))));

            // the reference's own history (its content keeps the space decoding leaves): its ids exactly
            ObjectNode replay = AgentHarness.body("tool", (ArrayNode) observed.get("history").deepCopy(), "observation", price).put("manual", true);
            ((ArrayNode) replay.get("history")).remove(0);
            replay.set("tools", first.get("tools"));
            h.turn(h.conversation(), replay);
            assertThat(h.prompts.get(2)).containsExactly(Fixtures.ints(observed.get("ids")));
        }
    }

    @Test
    void aToolThatNeedsTheSandboxIsRefusedWhereNoneRuns() throws Exception {
        var options = ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp)
                .withSandbox(io.github.chatglm4j.agent.sandbox.SandboxConfig.DEFAULTS.withBwrap(Path.of("/nonexistent/bwrap"))));
        try (var h = new AgentHarness(options, p -> AgentHarness.call("get_shell", "```python\ntool_call(query='ls')\n```"))) {
            ObjectNode body = AgentHarness.body("tool", null, "user", "list the files");
            body.putObject("tools").putArray("builtin").add("get_shell");

            List<JsonNode> events = h.turn(h.conversation(), body);

            assertThat(events).hasSize(1);
            assertThat(events.getFirst().get("type").asText()).isEqualTo("error");
            assertThat(events.getFirst().get("code").asText()).isEqualTo("sandbox_unavailable");
            assertThat(events.getFirst().get("message").asText()).contains("/nonexistent/bwrap");
            assertThat(h.prompts).as("the model was not asked").isEmpty();
        }
    }

    /** Python's json.dumps(value, indent=4, ensure_ascii=False) for objects, arrays and strings (the tools here). */
    static String pythonJsonDumps(JsonNode node) {
        var out = new StringBuilder();
        dump(node, 0, out);
        return out.toString();
    }

    private static void dump(JsonNode node, int depth, StringBuilder out) {
        String pad = "    ".repeat(depth + 1);
        if (node.isObject() || node.isArray()) {
            if (node.isEmpty()) {
                out.append(node.isObject() ? "{}" : "[]");
                return;
            }
            out.append(node.isObject() ? "{" : "[");
            var fields = node.isObject() ? node.properties().iterator() : null;
            var items = node.isArray() ? node.iterator() : null;
            boolean first = true;
            while (fields != null ? fields.hasNext() : items.hasNext()) {
                out.append(first ? "\n" : ",\n").append(pad);
                first = false;
                if (fields != null) {
                    var f = fields.next();
                    out.append(quote(f.getKey())).append(": ");
                    dump(f.getValue(), depth + 1, out);
                } else {
                    dump(items.next(), depth + 1, out);
                }
            }
            out.append("\n").append("    ".repeat(depth)).append(node.isObject() ? "}" : "]");
        } else if (node.isTextual()) {
            out.append(quote(node.textValue()));
        } else {
            throw new IllegalArgumentException("not needed here: " + node);
        }
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
