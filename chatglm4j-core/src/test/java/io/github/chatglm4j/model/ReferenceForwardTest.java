package io.github.chatglm4j.model;

import io.github.chatglm4j.testing.Numbers;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.testing.ExpectedTensors;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The forward pass against the reference PyTorch outputs of the tiny fixture models: per-layer hidden states,
 * prefill logits, argmax, KV-cache decode logits and greedy continuation, for every weight file format.
 */
class ReferenceForwardTest {
    private static final float TOLERANCE = 1e-4f;

    @AutoClose
    static final Parallel POOL = Parallel.create(2);

    /** Model directory variants: the fp16 safetensors shards, the same weights as pytorch_model.bin, bf16 32k. */
    static Stream<Arguments> models() throws Exception {
        Path tiny = Fixtures.tinyModel();
        Path onlyBin = Files.createTempDirectory("tiny-bin");
        for (String f : new String[]{"config.json", "pytorch_model.bin"}) {
            Files.createSymbolicLink(onlyBin.resolve(f), tiny.resolve(f).toAbsolutePath());
        }
        return Stream.of(
                Arguments.of("tiny-chatglm3 safetensors shards", tiny, tiny),
                Arguments.of("tiny-chatglm3 pytorch_model.bin", onlyBin, tiny),
                Arguments.of("tiny-chatglm3-32k bf16 safetensors", Fixtures.tinyModel32k(), Fixtures.tinyModel32k()));
    }

    private record Loaded(ChatGLMModel model, HuggingFaceCheckpoint checkpoint, ExpectedTensors expected) implements AutoCloseable {
        static Loaded of(Path dir, Path expectedDir) throws Exception {
            ChatGLMConfig config = ChatGLMConfig.read(dir.resolve("config.json"));
            HuggingFaceCheckpoint ckpt = HuggingFaceCheckpoint.open(dir, LoadProgress.NONE);
            ChatGLMModel model = new ChatGLMModel(config, ChatGLMWeights.bind(config, ckpt), POOL);
            return new Loaded(model, ckpt, new ExpectedTensors(expectedDir.resolve("expected.safetensors")));
        }

        @Override
        public void close() {
            checkpoint.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void prefillMatchesReferenceHiddenStatesLogitsAndArgmax(String label, Path dir, Path expectedDir) throws Exception {
        try (Loaded m = Loaded.of(dir, expectedDir)) {
            int[] ids = m.expected.ints("input_ids");
            ChatGLMConfig c = m.model.config();
            List<float[]> layers = new ArrayList<>();
            KvCache cache = new KvCache(c, 256, KvType.F32);
            float[] normed = m.model.forward(cache, ids, (layer, hidden, n) -> layers.add(hidden.clone()));

            for (int l = 0; l < c.numLayers(); l++) {
                Numbers.assertClose(m.expected.floats("hidden.layer" + l), layers.get(l), TOLERANCE, label + " hidden.layer" + l);
            }
            int[] positions = m.expected.ints("logits_positions");
            float[] expectedLogits = m.expected.floats("logits");
            int vocab = c.vocabSize();
            for (int i = 0; i < positions.length; i++) {
                float[] logits = m.model.logits(normed, positions[i]);
                float[] want = java.util.Arrays.copyOfRange(expectedLogits, i * vocab, (i + 1) * vocab);
                Numbers.assertClose(want, logits, TOLERANCE, label + " logits at position " + positions[i]);
            }
            int[] argmax = m.expected.ints("argmax");
            for (int t = 0; t < ids.length; t++) {
                assertThat(Numbers.argmax(m.model.logits(normed, t))).as("%s argmax at position %d", label, t).isEqualTo(argmax[t]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void kvCacheDecodeMatchesReferenceLogits(String label, Path dir, Path expectedDir) throws Exception {
        try (Loaded m = Loaded.of(dir, expectedDir)) {
            KvCache cache = new KvCache(m.model.config(), 256, KvType.F32);
            m.model.feed(cache, m.expected.ints("input_ids"));
            int[] decodeIds = m.expected.ints("decode_ids");
            float[] expected = m.expected.floats("decode_logits");
            int vocab = m.model.config().vocabSize();
            for (int i = 0; i < decodeIds.length; i++) {
                float[] logits = m.model.logits(m.model.feed(cache, new int[]{decodeIds[i]}), 0);
                Numbers.assertClose(java.util.Arrays.copyOfRange(expected, i * vocab, (i + 1) * vocab), logits, TOLERANCE,
                        label + " decode step " + i + " (token " + decodeIds[i] + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void greedyContinuationMatchesReference(String label, Path dir, Path expectedDir) throws Exception {
        try (Loaded m = Loaded.of(dir, expectedDir)) {
            int[] want = m.expected.ints("greedy_ids");
            KvCache cache = new KvCache(m.model.config(), 256, KvType.F32);
            float[] logits = m.model.logits(m.model.feed(cache, m.expected.ints("input_ids")), 0);
            int[] got = new int[want.length];
            for (int i = 0; i < want.length; i++) {
                got[i] = Numbers.argmax(logits);
                logits = m.model.logits(m.model.feed(cache, new int[]{got[i]}), 0);
            }
            assertArrayEquals(want, got, label + " greedy ids");
        }
    }
}
