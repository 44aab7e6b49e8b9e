package io.github.chatglm4j.generate;

import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.testing.ExpectedTensors;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Continuous batching: on the real tiny model, and on a scripted model where the schedule must be exact. */
class BatchSchedulerTest {
    static ChatGLM glm;
    static ExpectedTensors expected;
    static ChatGLMTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        glm = ChatGLM.load(Fixtures.tinyModel(), LoadOptions.defaults().withThreads(2).withContextSize(256));
        expected = new ExpectedTensors(Fixtures.tinyModel().resolve("expected.safetensors"));
        tokenizer = glm.tokenizer();
    }

    @AfterAll
    static void close() {
        glm.close();
    }

    /** A scheduler of its own over the tiny model (the model's own one is used by glm.complete for the oracle). */
    private static BatchScheduler newScheduler(int slots, int queue) {
        return new BatchScheduler(new ModelStepper(glm.model(), 256), tokenizer, slots, queue);
    }

    private static Generation await(Ticket t) throws Exception {
        return t.result().get(60, TimeUnit.SECONDS);
    }

    private static GenerationOptions greedy(int max) {
        return GenerationOptions.completion(SamplingParams.greedy(), max);
    }

    @Test
    void oneRequestReproducesTheReferenceGreedyIds() throws Exception {
        int[] want = expected.ints("greedy_ids");
        List<Integer> streamed = new ArrayList<>();
        try (BatchScheduler s = newScheduler(2, 4)) {
            Generation g = await(s.submit(new BatchRequest(expected.ints("input_ids"), greedy(want.length)),
                    (id, text) -> {
                        if (id >= 0) {
                            streamed.add(id);
                        }
                    }));
            assertThat(g.ids()).as("greedy ids through the scheduler").containsExactly(want);
            assertThat(streamed).containsExactlyElementsOf(Arrays.stream(want).boxed().toList());
            assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(g.text()).isEqualTo(tokenizer.decode(want));
        }
    }

    @Test
    void concurrentRequestsGiveTheirOneAtATimeOutputs() throws Exception {
        String[] prompts = {"你好", "hello world", "晚上睡不着应该怎么办", "def main():", "1 2 3 4 5 6 7 8 9"};
        int[][] alone = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            alone[i] = glm.complete(glm.prompts().buildCompletion(prompts[i]), greedy(12 + i), TokenListener.NONE).ids();
        }
        try (BatchScheduler s = newScheduler(3, 8)) {
            List<Ticket> tickets = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                tickets.add(s.submit(new BatchRequest(glm.prompts().buildCompletion(prompts[i]), greedy(12 + i)), TokenListener.NONE));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertThat(await(tickets.get(i)).ids()).as("request %d (%s) batched with others", i, prompts[i])
                        .containsExactly(alone[i]);
            }
            assertThat(s.stats().requestsFinished()).isEqualTo(prompts.length);
            assertThat(s.stats().running()).isZero();
        }
    }

    @Test
    void aFollowUpTurnOnlyComputesItsNewTokens() throws Exception {
        try (BatchScheduler s = newScheduler(2, 4)) {
            int[] first = glm.prompts().buildCompletion("你好");
            Generation g1 = await(s.submit(new BatchRequest(first, greedy(6)), TokenListener.NONE));
            int[] reply = g1.ids();
            // The next request repeats the conversation so far (prompt + reply) and adds 3 tokens.
            int[] second = new int[first.length + reply.length + 3];
            System.arraycopy(first, 0, second, 0, first.length);
            System.arraycopy(reply, 0, second, first.length, reply.length);
            second[second.length - 3] = ChatGLMTokenizer.USER;
            second[second.length - 2] = 30910;
            second[second.length - 1] = ChatGLMTokenizer.ASSISTANT;
            Generation g2 = await(s.submit(new BatchRequest(second, greedy(4)), TokenListener.NONE));
            // The last generated token was never fed, so it is recomputed with the 3 new ones.
            assertThat(g2.computedTokens()).as("tokens computed for the follow-up").isEqualTo(4);
            assertThat(g2.ids()).containsExactly(glm.complete(second, greedy(4), TokenListener.NONE).ids());
            assertThat(s.stats().cachedPromptTokens()).isEqualTo(second.length - 4);
        }
    }

    @Test
    void decodeStepsBatchAllRunningRequests() throws Exception {
        var model = new ScriptedModel(100, 64, (tokens, promptLength) -> 10 + tokens.length % 7);
        model.hold();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 4, 8)) {
            // A one-token request first, whose prefill holds the scheduler thread at the gate: the three below are
            // queued while it waits and so always start together, whatever the thread timing.
            Ticket blocker = s.submit(new BatchRequest(new int[]{9, 9}, greedy(1)), TokenListener.NONE);
            model.awaitHeld();
            List<Ticket> tickets = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tickets.add(s.submit(new BatchRequest(new int[]{1, 2, 3 + i}, greedy(5)), TokenListener.NONE));
            }
            model.release();
            assertThat(await(blocker).ids()).hasSize(1);
            for (Ticket t : tickets) {
                Generation g = await(t);
                assertThat(g.ids()).containsExactly(13, 14, 15, 16, 10);
                assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
            }
            // 5 tokens each: the first comes from the prefill, the last is never fed, so 4 decode steps of all 3.
            assertThat(model.decodeBatchSizes).containsExactly(3, 3, 3, 3);
        }
    }

    @Test
    void stopIdEndsARequestAndIsNotCounted() throws Exception {
        var model = new ScriptedModel(100, 64, (tokens, promptLength) -> tokens.length >= 6 ? 2 : 20);
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            Generation g = await(s.submit(new BatchRequest(new int[]{1, 2, 3}, greedy(50)), TokenListener.NONE));
            assertThat(g.ids()).containsExactly(20, 20, 20);
            assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(g.stopId()).isEqualTo(2);
        }
    }

    @Test
    void aFullQueueRefusesAndCancelledRequestsFreeTheirPlace() throws Exception {
        var model = new ScriptedModel(100, 64, (tokens, promptLength) -> 20);
        model.hold();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            Ticket running = s.submit(new BatchRequest(new int[]{1}, greedy(3)), TokenListener.NONE);
            Ticket waiting = s.submit(new BatchRequest(new int[]{2}, greedy(3)), TokenListener.NONE);
            assertThatThrownBy(() -> s.submit(new BatchRequest(new int[]{3}, greedy(3)), TokenListener.NONE))
                    .isInstanceOf(QueueFullException.class).hasMessageContaining("busy");
            waiting.cancel();
            model.release();
            assertThat(await(waiting).finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(await(waiting).ids()).isEmpty();
            assertThat(await(running).ids()).containsExactly(20, 20, 20);
        }
    }

    @Test
    void cancellingARunningRequestStopsItAtTheNextStep() throws Exception {
        var model = new ScriptedModel(1000, 64, (tokens, promptLength) -> 20);
        model.hold(); // hold the model until the ticket is known to the listener
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            var ticketHolder = new Ticket[1];
            var seen = new int[1];
            ticketHolder[0] = s.submit(new BatchRequest(new int[]{1}, greedy(500)), (id, text) -> {
                if (++seen[0] == 3) {
                    ticketHolder[0].cancel();
                }
            });
            model.release();
            Generation g = await(ticketHolder[0]);
            assertThat(g.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(g.ids()).as("tokens streamed before the cancel took effect").hasSize(3);
        }
    }

    @Test
    void aFailingListenerCancelsOnlyItsRequest() throws Exception {
        var model = new ScriptedModel(100, 64, (tokens, promptLength) -> 20);
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 2, 2)) {
            Ticket broken = s.submit(new BatchRequest(new int[]{1}, greedy(10)), (id, text) -> {
                throw new IllegalStateException("client went away");
            });
            Ticket fine = s.submit(new BatchRequest(new int[]{2}, greedy(10)), TokenListener.NONE);
            assertThat(await(broken).finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(await(fine).ids()).hasSize(10);
        }
    }

    @Test
    void aPromptThatFillsTheContextIsRefusedAtOnce() {
        var model = new ScriptedModel(8, 64, (tokens, promptLength) -> 20);
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            assertThatThrownBy(() -> s.submit(new BatchRequest(new int[8], greedy(1)), TokenListener.NONE))
                    .isInstanceOf(ContextOverflowException.class).hasMessageContaining("8 tokens");
        }
    }

    @Test
    void generationStopsAtTheContextSize() throws Exception {
        var model = new ScriptedModel(8, 64, (tokens, promptLength) -> 20);
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            Generation g = await(s.submit(new BatchRequest(new int[]{1, 2, 3}, greedy(100)), TokenListener.NONE));
            assertThat(g.ids()).hasSize(5);
            assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    /** Byte-piece ids of ASCII text: id = byte + 3 in ChatGLM3's vocabulary. */
    static int[] bytePieces(String ascii) {
        return ascii.chars().map(c -> c + 3).toArray();
    }

    @Test
    void aStopStringEndsGenerationOnTheSchedulerThreadWithNoTokenAfterIt() throws Exception {
        int[] reply = bytePieces("ab stop cd stop");
        var model = new ScriptedModel(100, 128, (tokens, promptLength) -> reply[Math.min(tokens.length - 1, reply.length - 1)]);
        var streamed = new StringBuilder();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            var options = greedy(50).withStopStrings(List.of("stop"));
            Generation g = await(s.submit(new BatchRequest(new int[]{1}, options), (id, text) -> streamed.append(text)));
            assertThat(g.text()).isEqualTo("ab ");
            assertThat(streamed).as("held-back \"st\", \"sto\" never reach the listener").hasToString("ab ");
            assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(g.stopString()).isEqualTo("stop");
            assertThat(g.stopId()).isEqualTo(-1);
            assertThat(g.ids()).as("generated up to the token that completed the stop string").containsExactly(bytePieces("ab stop"));
            // 7 tokens: the first from the prompt pass, the last never fed, so exactly 6 decode steps
            assertThat(model.decodeBatchSizes).hasSize(6);
        }
    }

    @Test
    void textThatOnlyLooksLikeAStopStringIsReleasedAtTheEnd() throws Exception {
        int[] reply = bytePieces("ab st");
        var model = new ScriptedModel(100, 128, (tokens, promptLength) -> tokens.length > reply.length ? 2 : reply[tokens.length - 1]);
        var streamed = new StringBuilder();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            var options = greedy(50).withStopStrings(List.of("stop"));
            Generation g = await(s.submit(new BatchRequest(new int[]{1}, options), (id, text) -> streamed.append(text)));
            assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(g.stopId()).isEqualTo(2);
            assertThat(g.stopString()).isNull();
            assertThat(g.text()).isEqualTo("ab st");
            assertThat(streamed).hasToString("ab st");
        }
    }
}
