package io.github.chatglm4j.generate;

import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hand-over of streamed text from the scheduler thread to the waiting thread. */
class TokenStreamTest {
    static ChatGLMTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = ChatGLMTokenizer.load(Fixtures.tinyModel().resolve("tokenizer.model"));
    }

    private static GenerationOptions greedy(int max) {
        return GenerationOptions.completion(SamplingParams.greedy(), max);
    }

    @Test
    void theSinkRunsOnTheWaitingThreadAndSeesEveryToken() {
        int[] reply = BatchSchedulerTest.bytePieces("hello");
        var model = new ScriptedModel(100, 128, (tokens, promptLength) -> reply[Math.min(tokens.length - 1, reply.length - 1)]);
        List<Thread> threads = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        var text = new StringBuilder();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            Generation g = TokenStream.submit(s, new BatchRequest(new int[]{1}, greedy(5))).drain((id, t) -> {
                threads.add(Thread.currentThread());
                ids.add(id);
                text.append(t);
            });
            assertThat(threads).containsOnly(Thread.currentThread());
            assertThat(ids).containsExactly(107, 104, 111, 111, 114);
            assertThat(text).hasToString("hello");
            assertThat(g.text()).isEqualTo("hello");
        }
    }

    /** A model that generates token 20 forever but waits for {@code resume} before computing its second token. */
    private static ScriptedModel pausingAfterTheFirstToken(CountDownLatch resume) {
        return new ScriptedModel(1000, 64, (tokens, promptLength) -> {
            if (tokens.length - promptLength == 1) {
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return 20;
        });
    }

    @Test
    void aFailingSinkCancelsTheRequestAndTheFailurePropagates() throws Exception {
        var resume = new CountDownLatch(1);
        var model = pausingAfterTheFirstToken(resume);
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            TokenStream stream = TokenStream.submit(s, new BatchRequest(new int[]{1}, greedy(900)));
            assertThatThrownBy(() -> stream.drain((id, t) -> {
                throw new IOException("client went away");
            })).isInstanceOf(IOException.class);
            resume.countDown();
            Generation g = stream.ticket().result().get(60, TimeUnit.SECONDS);
            assertThat(g.finishReason()).isEqualTo(FinishReason.CANCELLED);
            assertThat(g.ids()).as("the first token only: the cancel is seen before the next one is sampled").hasSize(1);
        }
    }

    @Test
    void interruptingTheWaiterCancelsAndKeepsTheInterruptFlag() throws Exception {
        var resume = new CountDownLatch(1);
        var model = pausingAfterTheFirstToken(resume);
        var first = new CountDownLatch(1);
        AtomicReference<Generation> result = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            TokenStream stream = TokenStream.submit(s, new BatchRequest(new int[]{1}, greedy(900)));
            Thread waiter = Thread.ofPlatform().start(() -> {
                result.set(stream.drain((id, t) -> first.countDown()));
                flag.set(Thread.currentThread().isInterrupted());
            });
            first.await();
            waiter.interrupt();
            // once the waiter has cancelled, the model finishes its step and the scheduler sees the cancel
            Await.until("the interrupted waiter cancelled its request", ((Job) stream.ticket())::isCancelled);
            resume.countDown();
            waiter.join();
        }
        assertThat(result.get().finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(flag.get()).as("interrupt flag restored").isTrue();
    }

    @Test
    void aModelFailureBecomesGenerationFailedException() {
        var model = new ScriptedModel(100, 64, (tokens, promptLength) -> {
            throw new IllegalStateException("out of native memory");
        });
        try (BatchScheduler s = new BatchScheduler(model, tokenizer, 1, 1)) {
            TokenStream stream = TokenStream.submit(s, new BatchRequest(new int[]{1}, greedy(5)));
            assertThatThrownBy(() -> stream.drain((id, t) -> { }))
                    .isInstanceOf(GenerationFailedException.class)
                    .hasRootCauseInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("out of native memory");
        }
    }
}
