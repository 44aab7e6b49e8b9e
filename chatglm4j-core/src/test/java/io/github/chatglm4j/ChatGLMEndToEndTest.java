package io.github.chatglm4j;

import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.model.KvType;
import io.github.chatglm4j.testing.ExpectedTensors;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The public API on the tiny reference model: generation, streaming, chat turns and KV-cache reuse. */
class ChatGLMEndToEndTest {
    static ChatGLM glm;
    static ExpectedTensors expected;

    @BeforeAll
    static void load() throws Exception {
        // F32 KV cache: the greedy ids are compared with the reference, whose closest top-2 gap is 0.0012
        glm = ChatGLM.load(Fixtures.tinyModel(), LoadOptions.defaults().withThreads(2).withContextSize(512).withKvType(KvType.F32));
        expected = new ExpectedTensors(Fixtures.tinyModel().resolve("expected.safetensors"));
    }

    @AfterAll
    static void close() {
        glm.close();
    }

    @Test
    void greedyCompletionReproducesTheReferenceAndKeepsTheLastToken() {
        int[] want = expected.ints("greedy_ids");
        List<Integer> streamed = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        Generation g = glm.complete(expected.ints("input_ids"),
                GenerationOptions.completion(SamplingParams.greedy(), want.length), (id, piece) -> {
                    if (id >= 0) {
                        streamed.add(id);
                    }
                    text.append(piece);
                });
        assertThat(g.ids()).as("greedy ids, all %d of them (the reference's chat() drops the last)", want.length).containsExactly(want);
        assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(streamed).containsExactlyElementsOf(Arrays.stream(want).boxed().toList());
        assertThat(text.toString()).isEqualTo(glm.tokenizer().decode(want));
        assertThat(g.text()).isEqualTo(glm.tokenizer().decode(want));
    }

    @Test
    void stopIdEndsGenerationAndIsNotPartOfTheOutput() {
        int[] greedy = expected.ints("greedy_ids");
        // Declare the 5th greedy token a stop id: generation must end right before it.
        var options = new GenerationOptions(SamplingParams.greedy(), 100, new int[]{greedy[4]}, List.of(), null);
        Generation g = glm.complete(expected.ints("input_ids"), options, (id, t) -> { });
        assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(g.stopId()).isEqualTo(greedy[4]);
        assertThat(g.ids()).containsExactly(Arrays.copyOf(greedy, 4));
    }

    @Test
    void completionOfTextStartsWithGmaskSop() {
        Generation g = glm.complete("你好", GenerationOptions.completion(SamplingParams.greedy(), 3), (id, t) -> { });
        assertThat(g.promptTokens()).isEqualTo(4); // [gMASK] sop ▁你 好
    }

    @Test
    void seededSamplingIsReproducible() {
        var options = GenerationOptions.completion(SamplingParams.DEFAULTS.withTemperature(1f).withTopP(0.95f).withSeed(1234), 16);
        int[] a = glm.complete(expected.ints("input_ids"), options, (id, t) -> { }).ids();
        int[] b = glm.complete(expected.ints("input_ids"), options, (id, t) -> { }).ids();
        assertThat(a).containsExactly(b);
    }

    @Test
    void aFollowUpTurnComputesOnlyItsNewTokensAndMatchesAFreshComputation() {
        ChatSession chat = glm.newChat(List.of(ChatMessage.system("You are a test.")));
        var options = GenerationOptions.chat(SamplingParams.greedy(), 6);
        ChatReply first = chat.send(ChatMessage.user("你好"), options, (id, t) -> { });
        int afterFirst = chat.tokensUsed();
        ChatReply second = chat.send(ChatMessage.user("再说一次"), options, (id, t) -> { });

        int[] continuation = glm.prompts().buildContinuation(List.of(ChatMessage.user("再说一次")));
        int pending = first.finishReason() == FinishReason.LENGTH ? 1 : 0;
        assertThat(second.generation().computedTokens()).as("tokens computed for the second turn")
                .isEqualTo(continuation.length + pending);
        assertThat(second.generation().promptTokens()).isEqualTo(afterFirst + continuation.length);

        // The same ids from an empty cache must give the same greedy reply.
        int[] allIds = Arrays.copyOf(chat.ids(), second.generation().promptTokens());
        Generation fresh = glm.complete(allIds, options, (id, t) -> { });
        assertThat(fresh.ids()).containsExactly(second.generation().ids());
        assertThat(chat.history()).hasSize(1 + 2 + 2);
    }

    @Test
    void resetKeepsTheInitialMessagesAndEmptiesTheCache() {
        ChatSession chat = glm.newChat(List.of(ChatMessage.system("sys")));
        chat.send(ChatMessage.user("hi"), GenerationOptions.chat(SamplingParams.greedy(), 2), (id, t) -> { });
        chat.reset();
        assertThat(chat.history()).containsExactly(ChatMessage.system("sys"));
        assertThat(chat.tokensUsed()).isZero();
    }

    @Test
    void prefixReuseGivesTheSameLogitsAsAFreshSequence() {
        int[] ids = expected.ints("input_ids");
        ChatGLMModel model = glm.model();
        KvCache reused = model.newCache(64);
        int[] other = ids.clone();
        other[ids.length - 3] = 100; // share all but the last three ids
        model.feed(reused, other);
        reused.truncate(ids.length - 3);
        float[] viaReuse = model.logits(model.feed(reused, Arrays.copyOfRange(ids, ids.length - 3, ids.length)), 0);
        float[] fresh = model.logits(model.feed(model.newCache(64), ids), 0);
        assertThat(viaReuse).containsExactly(fresh, org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void aPromptLongerThanTheContextIsRejectedWithItsLength() {
        int[] ids = new int[600];
        Arrays.fill(ids, 100);
        assertThatThrownBy(() -> glm.complete(ids, GenerationOptions.completion(SamplingParams.greedy(), 4), (id, t) -> { }))
                .isInstanceOf(ContextOverflowException.class)
                .hasMessageContaining("600 tokens").hasMessageContaining("512");
    }

    @Test
    void generationStopsWhenTheContextIsFull() {
        int[] ids = new int[510];
        Arrays.fill(ids, 100);
        Generation g = glm.complete(ids, GenerationOptions.completion(SamplingParams.greedy(), 50), (id, t) -> { });
        assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(g.ids()).hasSize(2);
    }

    @Test
    void missingFilesAreReportedByName(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ChatGLM.load(dir.resolve("nope")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no such directory");
        assertThatThrownBy(() -> ChatGLM.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("config.json");
        Files.copy(Fixtures.tinyModel().resolve("config.json"), dir.resolve("config.json"));
        assertThatThrownBy(() -> ChatGLM.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.model");
        Files.copy(Fixtures.tinyModel().resolve("tokenizer.model"), dir.resolve("tokenizer.model"));
        assertThatThrownBy(() -> ChatGLM.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no weights found");
    }
}
