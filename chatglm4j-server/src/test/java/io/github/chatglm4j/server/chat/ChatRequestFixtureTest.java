package io.github.chatglm4j.server.chat;

import io.github.chatglm4j.chat.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenAI requests equivalent to the reference fixture chats build exactly the reference's prompt ids: plain turns,
 * a system prompt, tools (flattened into ChatGLM3's tools system message) and a code-interpreter exchange.
 */
class ChatRequestFixtureTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static JsonNode chats;
    static PromptBuilder prompts;

    @BeforeAll
    static void load() throws Exception {
        Path root = Path.of(System.getProperty("chatglm.fixtures", "../../shared/fixtures"));
        chats = JSON.readTree(Files.readString(root.resolve("tokenizer/cases.json"))).get("chats");
        prompts = new PromptBuilder(ChatGLMTokenizer.load(root.resolve("tokenizer/tokenizer.model")));
    }

    static JsonNode fixture(int i) {
        return chats.get(i);
    }

    static int[] ids(JsonNode fixture) {
        JsonNode a = fixture.get("ids");
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    static int[] build(ObjectNode request) {
        return prompts.buildPrompt(ChatRequest.parse(request).messages());
    }

    @Test
    void plainHistoryAndSystemPrompt() {
        for (int i : new int[]{0, 1, 2, 3, 7}) {
            JsonNode f = fixture(i);
            ObjectNode request = JSON.createObjectNode();
            ArrayNode messages = request.putArray("messages");
            for (JsonNode h : f.get("history")) {
                messages.addObject().put("role", h.get("role").asText()).put("content", h.get("content").asText());
            }
            messages.addObject().put("role", f.get("role").asText()).put("content", f.get("query").asText());
            assertThat(build(request)).as("fixture chat %d: %s", i, f.get("decoded").asText()).containsExactly(ids(f));
        }
    }

    @Test
    void toolsBecomeChatGlm3sToolsSystemMessage() {
        JsonNode f = fixture(4);
        JsonNode system = f.get("history").get(0);
        assertThat(system.get("content").asText()).isEqualTo(ChatMessage.TOOLS_PROMPT);
        ObjectNode request = JSON.createObjectNode();
        ArrayNode tools = request.putArray("tools");
        for (JsonNode t : system.get("tools")) {
            tools.addObject().put("type", "function").set("function", t);
        }
        request.putArray("messages").addObject().put("role", "user").put("content", f.get("query").asText());
        assertThat(build(request)).containsExactly(ids(f));
    }

    @Test
    void codeInterpreterCallInHistoryBecomesAnInterpreterTurn() throws Exception {
        JsonNode f = fixture(6);
        JsonNode h = f.get("history");
        assertThat(h.get(2).get("metadata").asText()).isEqualTo("interpreter");
        ObjectNode request = JSON.createObjectNode();
        ArrayNode messages = request.putArray("messages");
        messages.addObject().put("role", "system").put("content", h.get(0).get("content").asText());
        messages.addObject().put("role", "user").put("content", h.get(1).get("content").asText());
        ObjectNode assistant = messages.addObject().put("role", "assistant");
        assistant.putNull("content");
        ObjectNode fn = assistant.putArray("tool_calls").addObject().put("id", "call_1").put("type", "function").putObject("function");
        fn.put("name", "interpreter");
        fn.put("arguments", JSON.createObjectNode().put("code", "print(2 ** 100)\n").toString());
        messages.addObject().put("role", "tool").put("tool_call_id", "call_1").put("content", f.get("query").asText());
        assertThat(build(request)).containsExactly(ids(f));
    }

    @Test
    void toolChoiceNoneLeavesTheToolsOut() {
        ObjectNode request = JSON.createObjectNode();
        request.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "f");
        request.put("tool_choice", "none");
        request.putArray("messages").addObject().put("role", "user").put("content", "Hello");
        assertThat(build(request)).containsExactly(ids(fixture(1)));
    }
}
