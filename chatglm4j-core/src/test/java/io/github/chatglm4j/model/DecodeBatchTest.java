package io.github.chatglm4j.model;

import io.github.chatglm4j.testing.Numbers;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link ChatGLMModel#decodeBatch}: one pass for several sequences must give each the logits it gets when fed
 * alone, and advance each cache by one position.
 */
class DecodeBatchTest {
    private static final float TOLERANCE = 1e-5f;

    static Parallel pool;
    static HuggingFaceCheckpoint checkpoint;
    static ChatGLMConfig config;
    static ChatGLMWeights weights;

    @BeforeAll
    static void load() {
        Path dir = Fixtures.tinyModel();
        pool = Parallel.create(2);
        config = ChatGLMConfig.read(dir.resolve("config.json"));
        checkpoint = HuggingFaceCheckpoint.open(dir, LoadProgress.NONE);
        weights = ChatGLMWeights.bind(config, checkpoint);
    }

    @AfterAll
    static void close() {
        checkpoint.close();
        pool.close();
    }

    @ParameterizedTest
    @EnumSource(KvType.class)
    void batchOfSequencesOfDifferentLengthsEqualsFeedingEachAlone(KvType type) {
        var model = new ChatGLMModel(config, weights, pool, type);
        // 1 token, a short chat, longer than one prompt batch (128), and long enough for split attention (>= 1024)
        int[] promptLengths = {1, 13, 5, 130, 1030};
        var random = new SplittableRandom(11);
        int b = promptLengths.length;
        KvCache[] alone = new KvCache[b];
        KvCache[] batched = new KvCache[b];
        for (int i = 0; i < b; i++) {
            int[] prompt = randomIds(random, promptLengths[i]);
            alone[i] = model.newCache(2048);
            batched[i] = model.newCache(2048);
            model.feed(alone[i], prompt);
            model.feed(batched[i], prompt);
        }
        for (int step = 0; step < 3; step++) {
            int[] tokens = randomIds(random, b);
            float[][] got = model.decodeBatch(batched, tokens);
            assertThat(got).as("one logits row per sequence").hasNumberOfRows(b);
            for (int i = 0; i < b; i++) {
                float[] want = model.logits(model.feed(alone[i], new int[]{tokens[i]}), 0);
                Numbers.assertClose(want, got[i], TOLERANCE, type + " step " + step + ", sequence " + i + " (prompt " + promptLengths[i] + ")");
                assertThat(batched[i].length()).as("cache of sequence %d after step %d", i, step).isEqualTo(alone[i].length());
            }
        }
    }

    @Test
    void batchOfOneEqualsFeedingTheToken() {
        var model = new ChatGLMModel(config, weights, pool, KvType.F32);
        KvCache alone = model.newCache(64);
        KvCache batched = model.newCache(64);
        int[] prompt = {64790, 64792, 30910, 55437, 31211};
        model.feed(alone, prompt);
        model.feed(batched, prompt);
        float[] want = model.logits(model.feed(alone, new int[]{34607}), 0);
        float[][] got = model.decodeBatch(new KvCache[]{batched}, new int[]{34607});
        Numbers.assertClose(want, got[0], TOLERANCE, "B = 1");
        assertThat(batched.length()).isEqualTo(6);
    }

    @Test
    void rejectsMismatchedAndRepeatedCachesAndFullOnes() {
        var model = new ChatGLMModel(config, weights, pool, KvType.F16);
        KvCache a = model.newCache(4);
        KvCache full = model.newCache(1);
        model.feed(full, new int[]{5});
        assertThatThrownBy(() -> model.decodeBatch(new KvCache[]{a}, new int[]{1, 2}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("1 caches but 2 tokens");
        assertThatThrownBy(() -> model.decodeBatch(new KvCache[]{a, a}, new int[]{1, 2}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("the same cache appears twice in one decode batch");
        assertThatThrownBy(() -> model.decodeBatch(new KvCache[]{a}, new int[]{65024}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> model.decodeBatch(new KvCache[]{a, full}, new int[]{1, 2}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("context full");
        assertThat(a.length()).as("a failed step leaves the caches as they were").isZero();
        assertThat(model.decodeBatch(new KvCache[0], new int[0])).isEmpty();
    }

    private static int[] randomIds(SplittableRandom random, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(3, 64_000);
        }
        return ids;
    }
}
