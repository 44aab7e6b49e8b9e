package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import io.github.chatglm4j.tokenizer.TokenizerFixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static io.github.chatglm4j.tokenizer.TokenizerFixtures.ints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.github.chatglm4j.testing.Numbers.concat;

/** Prompts against the reference {@code build_chat_input} ids of cases.json and chatglm.cpp's golden vectors. */
class PromptBuilderTest {
    private final ChatGLMTokenizer tok = TokenizerFixtures.tokenizer();
    private final PromptBuilder builder = new PromptBuilder(tok);

    @TestFactory
    Stream<DynamicTest> promptsMatchReferenceBuildChatInput() {
        return TokenizerFixtures.chats().stream().map(c -> DynamicTest.dynamicTest(c.get("query").asText(), () -> {
            List<ChatMessage> history = history(c);
            ChatMessage query = new ChatMessage(Role.fromWireName(c.get("role").asText()), c.get("query").asText(), "", null);
            int[] expected = ints(c.get("ids"));
            assertThat(builder.buildPrompt(history, query)).as("prompt ids").containsExactly(expected);
            var all = new ArrayList<>(history);
            all.add(query);
            assertThat(builder.buildPrompt(all)).as("prompt ids from one list").containsExactly(expected);
        }));
    }

    @Test
    void chatglmCppGoldenSingleTurn() {
        // reference doc 2.4 (chatglm.cpp chatglm_test.cpp): single user turn "你好"
        assertThat(builder.buildPrompt(List.of(ChatMessage.user("你好"))))
                .containsExactly(64790, 64792, 64795, 30910, 13, 36474, 54591, 64796);
    }

    @Test
    void messageHeaderCarriesMetadata() {
        // reference doc 2.4: "interpreter\n" -> 17884, 363, 13
        int[] ids = builder.buildMessage(ChatMessage.assistant("interpreter", "x"));
        assertThat(Arrays.copyOf(ids, 4)).containsExactly(64796, 17884, 363, 13);
        assertThat(builder.buildMessage(ChatMessage.user(""))).as("empty content adds nothing after the header")
                .containsExactly(64795, 30910, 13);
    }

    @Test
    void conversationAssembledFromContinuationsEqualsOneFullPrompt() {
        // The 3-turn case: turn 1 prompt, then the reply as the model would generate it after <|assistant|>
        // ("\n" header then content), then the continuation for the next user message.
        JsonNode c = TokenizerFixtures.chats().stream()
                .filter(n -> n.get("history").size() == 2 && n.get("history").get(0).get("role").asText().equals("user"))
                .findFirst().orElseThrow();
        List<ChatMessage> history = history(c);
        ChatMessage reply = history.get(1);
        int[] generated = Arrays.copyOfRange(builder.buildMessage(reply), 1, builder.buildMessage(reply).length);
        int[] conversation = concat(
                builder.buildPrompt(List.of(history.get(0))),
                generated,
                builder.buildContinuation(List.of(ChatMessage.user(c.get("query").asText()))));
        assertThat(conversation).containsExactly(ints(c.get("ids")));
    }

    @Test
    void continuationHasNoPrefix() {
        int[] cont = builder.buildContinuation(List.of(ChatMessage.observation("42")));
        assertThat(cont[0]).isEqualTo(ChatGLMTokenizer.OBSERVATION);
        assertThat(cont[cont.length - 1]).isEqualTo(ChatGLMTokenizer.ASSISTANT);
        assertThat(builder.buildPrompt(List.of(ChatMessage.observation("42"))))
                .containsExactly(concat(new int[]{ChatGLMTokenizer.GMASK, ChatGLMTokenizer.SOP}, cont));
    }

    @Test
    void emptyMessageListsAreRejected() {
        assertThatThrownBy(() -> builder.buildPrompt(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.buildContinuation(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    /** History items are dicts with role, content and optional metadata and tools, as in the reference. */
    static List<ChatMessage> history(JsonNode chat) {
        var out = new ArrayList<ChatMessage>();
        chat.get("history").forEach(h -> out.add(new ChatMessage(
                Role.fromWireName(h.get("role").asText()),
                h.get("content").asText(),
                h.has("metadata") ? h.get("metadata").asText() : "",
                h.get("tools"))));
        return out;
    }
}
