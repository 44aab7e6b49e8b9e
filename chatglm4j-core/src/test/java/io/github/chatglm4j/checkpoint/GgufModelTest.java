package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.testing.Numbers;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.ExpectedTensors;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The tiny fixture models converted to GGUF and loaded through {@code ChatGLM.load(file.gguf)} reproduce the
 * reference PyTorch outputs (expected.safetensors).
 *
 * <p>Bounds: tiny-chatglm3 is stored in float16 and tiny-chatglm3-32k in bfloat16. F32 GGUFs of both, the F16 GGUF
 * of the first and the BF16 GGUF of the second hold exactly the reference weights, so they get the float32 bound
 * 1e-4 of the fixtures README and greedy ids must match exactly. The F16 GGUF of the bfloat16 model is exact too
 * except for weights below 2^-14 in magnitude (float16 subnormals, rounded by at most 2^-25 ≈ 3e-8), far below what
 * 1e-4 on logits can see, so it gets the same bound. Only the BF16 GGUF of the float16 model really rounds weights
 * (11 to 8 significant bits, relative error up to 2^-9); see {@link #bf16OfAFloat16ModelStaysWithinItsRoundingBound}.
 */
class GgufModelTest {
    private static final float TOLERANCE = 1e-4f;

    /** The lossless conversions. */
    static Stream<Arguments> files() {
        return Stream.of(
                Arguments.of("tiny-chatglm3", TensorType.F32),
                Arguments.of("tiny-chatglm3", TensorType.F16),
                Arguments.of("tiny-chatglm3-32k", TensorType.F32),
                Arguments.of("tiny-chatglm3-32k", TensorType.F16),
                Arguments.of("tiny-chatglm3-32k", TensorType.BF16));
    }

    private static ChatGLM load(String fixture, TensorType type) {
        Path file = GgufFixtures.model(fixture, type);
        return ChatGLM.load(file, LoadOptions.defaults().withThreads(2).withContextSize(256).withPreload(false));
    }

    private static ExpectedTensors expected(String fixture) throws Exception {
        return new ExpectedTensors(Fixtures.root().resolve(fixture).resolve("expected.safetensors"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("files")
    void prefillMatchesTheReference(String fixture, TensorType type) throws Exception {
        ExpectedTensors e = expected(fixture);
        try (ChatGLM glm = load(fixture, type)) {
            assertThat(glm.model().weights().matrixType()).isEqualTo(type);
            ChatGLMModel model = glm.model();
            int[] ids = e.ints("input_ids");
            List<float[]> layers = new ArrayList<>();
            float[] normed = model.forward(new KvCache(model.config(), 256, io.github.chatglm4j.model.KvType.F32), ids, (layer, hidden, n) -> layers.add(hidden.clone()));
            for (int l = 0; l < model.config().numLayers(); l++) {
                Numbers.assertClose(e.floats("hidden.layer" + l), layers.get(l), TOLERANCE, fixture + " " + type + " hidden.layer" + l);
            }
            int vocab = model.config().vocabSize();
            int[] positions = e.ints("logits_positions");
            float[] logits = e.floats("logits");
            for (int i = 0; i < positions.length; i++) {
                Numbers.assertClose(Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab), model.logits(normed, positions[i]), TOLERANCE,
                        fixture + " " + type + " logits at position " + positions[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("files")
    void decodeAndGreedyContinuationMatchTheReference(String fixture, TensorType type) throws Exception {
        ExpectedTensors e = expected(fixture);
        try (ChatGLM glm = load(fixture, type)) {
            ChatGLMModel model = glm.model();
            int vocab = model.config().vocabSize();
            KvCache cache = new KvCache(model.config(), 256, io.github.chatglm4j.model.KvType.F32);
            model.feed(cache, e.ints("input_ids"));
            int[] decodeIds = e.ints("decode_ids");
            float[] decodeLogits = e.floats("decode_logits");
            for (int i = 0; i < decodeIds.length; i++) {
                float[] got = model.logits(model.feed(cache, new int[]{decodeIds[i]}), 0);
                Numbers.assertClose(Arrays.copyOfRange(decodeLogits, i * vocab, (i + 1) * vocab), got, TOLERANCE, fixture + " " + type + " decode step " + i);
            }

            int[] want = e.ints("greedy_ids");
            cache = new KvCache(model.config(), 256, io.github.chatglm4j.model.KvType.F32);
            float[] logits = model.logits(model.feed(cache, e.ints("input_ids")), 0);
            int[] got = new int[want.length];
            for (int i = 0; i < want.length; i++) {
                got[i] = Numbers.argmax(logits);
                logits = model.logits(model.feed(cache, new int[]{got[i]}), 0);
            }
            assertThat(got).as("%s %s greedy ids", fixture, type).containsExactly(want);
        }
    }

    /**
     * Rounding every weight to bfloat16 (relative error at most 2^-9 each) perturbs hidden states and logits by
     * about that relative amount per layer; with logits of order 1-5 over 2 layers and the output projection that is
     * a few hundredths (0.024 measured). Stated bound: max |difference| 0.1 and cosine similarity at least 0.9999 at
     * every reference position, and the same top-1 token wherever the reference's top-2 gap exceeds 2 × 0.1, where
     * no perturbation within the bound could swap them.
     */
    @org.junit.jupiter.api.Test
    void bf16OfAFloat16ModelStaysWithinItsRoundingBound() throws Exception {
        ExpectedTensors e = expected("tiny-chatglm3");
        float bound = 0.1f;
        try (ChatGLM glm = load("tiny-chatglm3", TensorType.BF16)) {
            ChatGLMModel model = glm.model();
            int vocab = model.config().vocabSize();
            float[] normed = model.forward(new KvCache(model.config(), 256, io.github.chatglm4j.model.KvType.F32), e.ints("input_ids"), null);
            int[] positions = e.ints("logits_positions");
            float[] logits = e.floats("logits");
            int decisive = 0;
            for (int i = 0; i < positions.length; i++) {
                float[] want = Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
                float[] got = model.logits(normed, positions[i]);
                double dot = 0, ww = 0, gg = 0, worst = 0;
                for (int k = 0; k < vocab; k++) {
                    worst = Math.max(worst, Math.abs(want[k] - got[k]));
                    dot += (double) want[k] * got[k];
                    ww += (double) want[k] * want[k];
                    gg += (double) got[k] * got[k];
                }
                assertThat(worst).as("max |difference| at position %d", positions[i]).isLessThanOrEqualTo(bound);
                assertThat(dot / Math.sqrt(ww * gg)).as("cosine similarity at position %d", positions[i]).isGreaterThanOrEqualTo(0.9999);
                int top = Numbers.argmax(want);
                float second = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < vocab; k++) {
                    if (k != top) {
                        second = Math.max(second, want[k]);
                    }
                }
                if (want[top] - second > 2 * bound) {
                    decisive++;
                    assertThat(Numbers.argmax(got)).as("top-1 at position %d (reference gap %f)", positions[i], want[top] - second).isEqualTo(top);
                }
            }
            assertThat(decisive).as("positions where top-1 is decisive").isPositive();
        }
    }
}
