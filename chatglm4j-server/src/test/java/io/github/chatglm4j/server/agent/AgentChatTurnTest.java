package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.agent.testing.Reference;
import io.github.chatglm4j.agent.testing.Reference.Turn;
import io.github.chatglm4j.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chat-mode turn streamed as the contract says, its history coming back as the page will resend it, and the next
 * turn's prompt rebuilt from that history exactly as the reference's build_chat_input builds it.
 */
class AgentChatTurnTest {
    static final String SYSTEM = "You are a helpful assistant.";
    static final String GREETING = "Hello! How can I help you today?";
    static final String WELCOME = "You are welcome.";

    @TempDir
    Path temp;

    static int[] reply(String prompt) {
        String last = AgentHarness.lastMessage(prompt);
        return AgentHarness.text(last.equals("Thanks!") ? WELCOME : GREETING);
    }

    static String text(List<JsonNode> events) {
        var out = new StringBuilder();
        events.stream().filter(e -> e.get("type").asText().equals("text")).forEach(e -> out.append(e.get("text").asText()));
        return out.toString();
    }

    @Test
    void aChatTurnStreamsTheAnswerAndReturnsTheHistoryTheNextTurnIsBuiltFrom() throws Exception {
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp)), AgentChatTurnTest::reply)) {
            String id = h.conversation();
            ObjectNode first = AgentHarness.body("chat", null, "user", "Hi there").put("system", SYSTEM);

            List<JsonNode> events = h.turn(id, first);

            assertThat(events.subList(0, events.size() - 1)).allSatisfy(e -> {
                assertThat(e.get("type").asText()).isEqualTo("text");
                assertThat(e.get("round").asInt()).isEqualTo(1);
            });
            assertThat(text(events)).isEqualTo(GREETING);
            JsonNode done = events.getLast();
            assertThat(done.get("type").asText()).isEqualTo("done");
            assertThat(done.get("outcome").asText()).isEqualTo("answered");
            assertThat(done.get("max_rounds").asInt()).isEqualTo(5);
            assertThat(done.get("history").toString()).as("without the system message the page sends by itself").isEqualTo(
                    "[{\"role\":\"user\",\"content\":\"Hi there\",\"metadata\":\"\"},"
                            + "{\"role\":\"assistant\",\"content\":\"" + GREETING + "\",\"metadata\":\"\"}]");
            int[] firstPrompt = Reference.buildChatInput(List.of(Turn.of("system", SYSTEM), Turn.of("user", "Hi there")));
            assertThat(h.prompts.getFirst()).containsExactly(firstPrompt);
            JsonNode stats = done.get("stats");
            assertThat(stats.get("prompt_tokens").asInt()).isEqualTo(firstPrompt.length);
            assertThat(stats.get("completion_tokens").asInt()).as("the reply's ids without the stop token")
                    .isEqualTo(AgentHarness.text(GREETING).length - 1);
            assertThat(stats.get("cached_tokens").asInt()).isZero();
            assertThat(stats.fieldNames()).toIterable().containsExactly("prompt_tokens", "cached_tokens", "prompt_tokens_per_second",
                    "completion_tokens", "generation_tokens_per_second");

            ObjectNode second = AgentHarness.body("chat", (ArrayNode) done.get("history"), "user", "Thanks!").put("system", SYSTEM);
            List<JsonNode> more = h.turn(id, second);

            assertThat(text(more)).isEqualTo(WELCOME);
            int[] secondPrompt = Reference.buildChatInput(List.of(Turn.of("system", SYSTEM), Turn.of("user", "Hi there"),
                    Turn.of("assistant", GREETING), Turn.of("user", "Thanks!")));
            assertThat(h.prompts.get(1)).containsExactly(secondPrompt);
            assertThat(more.getLast().get("stats").get("cached_tokens").asInt())
                    .as("the rebuilt conversation reuses what the first turn computed: its prompt and its reply")
                    .isEqualTo(firstPrompt.length + AgentHarness.text(GREETING).length - 1);
            assertThat(more.getLast().get("history")).hasSize(4);
        }
    }

    @Test
    void theNextTurnMaySendAsSoonAsDoneArrives() throws Exception {
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp)), AgentChatTurnTest::reply)) {
            String id = h.conversation();
            HttpResponse<Stream<String>> r = h.http.send(h.request("/api/conversations/" + id + "/turn").POST(
                    HttpRequest.BodyPublishers.ofString(AgentHarness.body("chat", null, "user", "Hi there").toString())).build(),
                    HttpResponse.BodyHandlers.ofLines());
            try (Stream<String> lines = r.body()) {
                String done = lines.filter(l -> l.startsWith("data: {\"type\":\"done\"")).findFirst().orElseThrow();
                // the stream has not necessarily ended yet; the conversation is free all the same
                ArrayNode history = (ArrayNode) AgentHarness.JSON.readTree(done.substring(6)).get("history");
                assertThat(h.turn(id, AgentHarness.body("chat", history, "user", "Thanks!")).getLast().get("outcome").asText())
                        .isEqualTo("answered");
            }
        }
    }

    @Test
    void theReferencesMultiTurnCaseIsPromptedIdForId() throws Exception {
        // cases.json chat 2: a user turn, the model's answer, and the next question, as the reference builds them
        JsonNode chat = Fixtures.chats().get(2);
        try (var h = new AgentHarness(ServerOptions.local(0).withAgent(AgentApiOptions.DEFAULTS.withDataRoot(temp)), AgentChatTurnTest::reply)) {
            ObjectNode body = AgentHarness.JSON.createObjectNode().put("mode", "chat");
            body.set("history", chat.get("history"));
            body.putObject("message").put("role", "user").put("content", chat.get("query").asText());

            h.turn(h.conversation(), body);

            assertThat(h.prompts.getFirst()).containsExactly(Fixtures.ints(chat.get("ids")));
        }
    }
}
