package io.github.chatglm4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import io.github.chatglm4j.tokenizer.TokenizerFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static io.github.chatglm4j.tokenizer.TokenizerFixtures.ints;
import static io.github.chatglm4j.tokenizer.TokenizerFixtures.strings;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tokenizer read back from a GGUF vocabulary (no tokenizer.model) against the reference cases of
 * {@code fixtures/tokenizer/cases.json} and the tokenizer.model-based tokenizer.
 */
class GgufTokenizerTest {
    static ChatGLMTokenizer fromGguf;
    static final ChatGLMTokenizer fromModel = TokenizerFixtures.tokenizer();

    @BeforeAll
    static void open() {
        try (GgufCheckpoint c = GgufCheckpoint.open(GgufFixtures.model("tiny-chatglm3", TensorType.F16), LoadProgress.NONE)) {
            fromGguf = c.tokenizer();
        }
    }

    @TestFactory
    Stream<DynamicTest> textsEncodeDecodeAndSpellLikeTheReference() {
        return TokenizerFixtures.texts().stream().map(c -> DynamicTest.dynamicTest(label(c), () -> {
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            assertThat(fromGguf.encode(text)).as("ids of %s", text).containsExactly(ids).containsExactly(fromModel.encode(text));
            assertThat(Arrays.stream(ids).mapToObj(fromGguf::piece).toList()).as("pieces").containsExactlyElementsOf(strings(c.get("pieces")));
            assertThat(fromGguf.decode(ids)).as("decode").isEqualTo(c.get("decoded").asText());
            assertThat(fromGguf.decodeRuns(ids)).as("decodeRuns").isEqualTo(fromModel.decodeRuns(ids));
            assertThat(fromGguf.encodeWithSpecialTokens(text)).containsExactly(fromModel.encodeWithSpecialTokens(text));
        }));
    }

    private static String label(JsonNode c) {
        String text = c.get("text").asText();
        return text.isBlank() ? "[" + text.length() + " blank chars]" : text;
    }

    @TestFactory
    Stream<DynamicTest> chatPromptsMatchReferenceBuildChatInput() {
        var builder = new PromptBuilder(fromGguf);
        return TokenizerFixtures.chats().stream().map(c -> DynamicTest.dynamicTest(c.get("query").asText(), () -> {
            var history = new ArrayList<ChatMessage>();
            c.get("history").forEach(h -> history.add(new ChatMessage(Role.fromWireName(h.get("role").asText()),
                    h.get("content").asText(), h.has("metadata") ? h.get("metadata").asText() : "", h.get("tools"))));
            var query = new ChatMessage(Role.fromWireName(c.get("role").asText()), c.get("query").asText(), "", null);
            assertThat(builder.buildPrompt(history, query)).containsExactly(ints(c.get("ids")));
            assertThat(fromGguf.decodeRuns(ints(c.get("ids")))).isEqualTo(c.get("decoded").asText());
        }));
    }

    @Test
    void everyIdHasThePieceScoreAndTypeOfTokenizerModel() {
        assertThat(fromGguf.vocabSize()).isEqualTo(fromModel.vocabSize());
        for (int id = 0; id < fromModel.vocabSize(); id++) {
            assertThat(fromGguf.piece(id)).as("piece %d", id).isEqualTo(fromModel.piece(id));
            assertThat(fromGguf.score(id)).as("score %d", id).isEqualTo(fromModel.score(id));
            assertThat(fromGguf.pieceType(id)).as("type %d", id).isEqualTo(fromModel.pieceType(id));
        }
        JsonNode specials = TokenizerFixtures.cases().get("special_tokens");
        specials.properties().forEach(e -> assertThat(fromGguf.specialTokenId(e.getKey())).hasValue(e.getValue().asInt()));
    }

    @Test
    void theChatTemplateRendersTheReferencePrompt() {
        // GgufModelWriter.CHAT_TEMPLATE rendered by Python's jinja2 3.1.6 for these messages with add_generation_prompt
        String rendered = "[gMASK]sop<|system|>\n You are a helpful assistant.<|user|>\n 你好<|assistant|>\n 你好！有什么可以帮你？"
                + "<|user|>\n Tell me a joke.<|assistant|>";
        List<ChatMessage> messages = List.of(ChatMessage.system("You are a helpful assistant."), ChatMessage.user("你好"),
                ChatMessage.assistant("", "你好！有什么可以帮你？"), ChatMessage.user("Tell me a joke."));
        assertThat(GgufModelWriter.CHAT_TEMPLATE).as("the template that was rendered").isEqualTo("[gMASK]sop{% for message in messages %}"
                + "<|{{ message['role'] }}|>\n {{ message['content'] }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
        assertThat(fromGguf.encodeWithSpecialTokens(rendered)).as("the rendered text tokenizes to the reference prompt")
                .containsExactly(new PromptBuilder(fromGguf).buildPrompt(messages));
    }
}
