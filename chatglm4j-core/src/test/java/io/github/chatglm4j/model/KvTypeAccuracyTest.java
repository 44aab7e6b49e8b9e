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

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Reduced-precision KV caches against the reference float32 logits of the tiny fixture models (which the F32
 * cache reproduces to 1e-4): the prompt's last logits and the 8 cached decode steps must keep the same top-1
 * token, a cosine similarity and a max |difference| within the bounds stated per type below.
 */
class KvTypeAccuracyTest {
    @AutoClose
    static final Parallel POOL = Parallel.create(2);

    /**
     * model, cache type, min cosine similarity, max |logit difference| (logits are of order 1-5). Measured when
     * the bounds were set: F16 cosine > 0.9999999 and max |diff| 1.4e-3; Q8_0 cosine > 0.99996, max |diff| 3.2e-2.
     */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Fixtures.tinyModel(), KvType.F16, 0.999999, 3e-3),
                Arguments.of(Fixtures.tinyModel(), KvType.Q8_0, 0.9999, 6e-2),
                Arguments.of(Fixtures.tinyModel32k(), KvType.F16, 0.999999, 3e-3),
                Arguments.of(Fixtures.tinyModel32k(), KvType.Q8_0, 0.9999, 6e-2));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void logitsStayCloseToTheReference(Path dir, KvType type, double minCosine, double maxDiff) throws Exception {
        ChatGLMConfig config = ChatGLMConfig.read(dir.resolve("config.json"));
        var expected = new ExpectedTensors(dir.resolve("expected.safetensors"));
        try (HuggingFaceCheckpoint ckpt = HuggingFaceCheckpoint.open(dir, LoadProgress.NONE)) {
            var model = new ChatGLMModel(config, ChatGLMWeights.bind(config, ckpt), POOL, type);
            KvCache cache = model.newCache(256);
            int vocab = config.vocabSize();
            int[] ids = expected.ints("input_ids");
            int[] positions = expected.ints("logits_positions");
            float[] prefill = expected.floats("logits");
            int last = positions.length - 1;
            if (positions[last] != ids.length - 1) {
                throw new IllegalStateException("the fixture's last logits are not at the last prompt position");
            }
            String label = dir.getFileName() + " " + type;
            compare(label + " prompt", Arrays.copyOfRange(prefill, last * vocab, (last + 1) * vocab),
                    model.logits(model.feed(cache, ids), 0), minCosine, maxDiff);
            int[] decode = expected.ints("decode_ids");
            float[] decodeLogits = expected.floats("decode_logits");
            for (int i = 0; i < decode.length; i++) {
                compare(label + " decode step " + i, Arrays.copyOfRange(decodeLogits, i * vocab, (i + 1) * vocab),
                        model.logits(model.feed(cache, new int[]{decode[i]}), 0), minCosine, maxDiff);
            }
        }
    }

    private static void compare(String what, float[] want, float[] got, double minCosine, double maxDiff) {
        double dot = 0, ww = 0, gg = 0, worst = 0;
        for (int i = 0; i < want.length; i++) {
            dot += (double) want[i] * got[i];
            ww += (double) want[i] * want[i];
            gg += (double) got[i] * got[i];
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        double cosine = dot / Math.sqrt(ww * gg);
        int top = Numbers.argmax(want);
        int gotTop = Numbers.argmax(got);
        if (gotTop != top || !(cosine >= minCosine) || !(worst <= maxDiff)) {
            fail(String.format("%s: top-1 %d (reference %d), cosine %.7f (min %s), max |diff| %.2e (max %.0e)",
                    what, gotTop, top, cosine, minCosine, worst, maxDiff));
        }
    }
}
