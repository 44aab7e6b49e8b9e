package io.github.chatglm4j;

import io.github.chatglm4j.testing.Numbers;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.checkpoint.FileType;
import io.github.chatglm4j.checkpoint.RandomGgufWriter;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.model.KvType;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.tokenizer.TokenizerFixtures;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Q4_0 GGUF model whose rows hold full groups of {@code BlockGroups.G} blocks (hidden 512, FFN 1408 = 2 groups of
 * 16 + a 12-block tail with 256-bit vectors; with 512-bit, 1408 is one group of 32 + the tail, 512 a tail only):
 * loaded with repacking on, every Q4_0 matrix is regrouped into native memory, and the model computes what
 * the file-layout kernels compute (those are checked against the oracle decoder in QuantWeightMatrixTest): prompt
 * logits (panel products), decode logits (int8 mat-vec) and the greedy continuation.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RepackedLoadTest {

    private static final ChatGLMConfig CONFIG = new ChatGLMConfig(2, 512, 1408, 4, 128, 2, 65024, 256, 1e-5f, 1f);

    @TempDir
    static Path tmp;
    private static Path file;
    private static List<String> events;

    @BeforeAll
    static void writeModel() throws IOException {
        file = tmp.resolve("q4_0.gguf");
        RandomGgufWriter.write(file, CONFIG, TokenizerFixtures.tokenizer(), FileType.Q4_0, 11, 2, LoadProgress.NONE, false);
    }

    private static ChatGLM load(boolean repack, List<String> stages) {
        LoadProgress progress = (stage, done, total) -> {
            if (stages != null && (stages.isEmpty() || !stages.getLast().equals(stage))) {
                stages.add(stage);
            }
        };
        // an F32 KV cache: with F16, float-rounding differences of 1e-6 flip F16 roundings and grow step by step
        return ChatGLM.load(file, new LoadOptions(2, 256, true, progress).withKvType(KvType.F32).withRepack(repack));
    }

    @Test
    void closingWhileIdleFreesEveryWeightAndLaterUseThrowsInsteadOfReadingFreedMemory() {
        for (boolean repack : new boolean[]{true, false}) {
            ChatGLM glm = load(repack, null);
            ChatGLMModel model = glm.model();
            KvCache cache = model.newCache(16);
            model.feed(cache, new int[]{1, 2, 3});
            List<WeightMatrix> matrices = List.copyOf(model.weights().matrices().values());
            glm.close();
            assertThat(matrices).as("repack=%s: every weight segment (mapped file and native copies) is freed", repack)
                    .allSatisfy(m -> assertThat(m.data().scope().isAlive()).isFalse());
            // the kernels read views of the same scope: a pass after close fails cleanly (pool or segment closed)
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> model.feed(model.newCache(16), new int[]{1}))
                    .as("repack=%s", repack).isInstanceOf(IllegalStateException.class);
            WeightMatrix any = matrices.getFirst();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> any.copyRow(0, new float[any.cols()], 0))
                    .as("repack=%s: reading a row of a closed model", repack).isInstanceOf(IllegalStateException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> any.matvec(new float[any.cols()], new float[any.rows()], null))
                    .as("repack=%s: a product on the caller thread of a closed model", repack).isInstanceOf(IllegalStateException.class);
            glm.close(); // idempotent
        }
    }

    @Test
    void q4_0MatricesAreRegroupedIntoNativeMemoryAndOthersStayMapped() {
        List<String> stages = new ArrayList<>();
        try (ChatGLM repacked = load(true, stages); ChatGLM stored = load(false, null)) {
            Map<String, WeightMatrix> a = repacked.model().weights().matrices();
            Map<String, WeightMatrix> b = stored.model().weights().matrices();
            int regrouped = 0;
            for (var e : a.entrySet()) {
                WeightMatrix m = e.getValue();
                WeightMatrix original = b.get(e.getKey());
                assertThat(original.isRegrouped()).isFalse();
                assertThat(original.data().isMapped()).isTrue();
                boolean q4 = original.type() == TensorType.Q4_0 && !e.getKey().endsWith("word_embeddings.weight");
                assertThat(m.isRegrouped()).as("%s regrouped", e.getKey()).isEqualTo(q4);
                assertThat(m.data().isMapped()).as("%s mapped", e.getKey()).isEqualTo(!q4);
                assertThat(m.type()).isEqualTo(original.type());
                regrouped += q4 ? 1 : 0;
            }
            assertThat(regrouped).as("4 per layer (the output layer is Q6_K in a Q4_0 file)").isEqualTo(4 * CONFIG.numLayers());
            assertThat(stages).contains("repacking");
        }
    }

    @Test
    void repackedAndStoredLayoutsGiveTheSameLogitsAndGreedyTokens() {
        int[] prompt = new Random(5).ints(40, 3, 60000).toArray();
        try (ChatGLM repacked = load(true, null); ChatGLM stored = load(false, null)) {
            ChatGLMModel ma = repacked.model();
            ChatGLMModel mb = stored.model();
            KvCache ca = ma.newCache(256);
            KvCache cb = mb.newCache(256);
            float[] ha = ma.feed(ca, prompt);
            float[] hb = mb.feed(cb, prompt);
            assertClose(ha, hb, 1e-4f, "prompt hidden state");
            float[] la = ma.logits(ha, 0);
            float[] lb = mb.logits(hb, 0);
            assertClose(la, lb, 3e-2f, "prompt logits");
            for (int step = 0; step < 12; step++) {
                int next = Numbers.argmax(lb);
                assertThat(Numbers.argmax(la)).as("greedy token %d", step).isEqualTo(next);
                la = ma.decodeBatch(new KvCache[]{ca}, new int[]{next})[0];
                lb = mb.decodeBatch(new KvCache[]{cb}, new int[]{next})[0];
                assertClose(la, lb, 3e-2f, "decode logits step " + step);
            }
        }
    }

    /**
     * The prompt runs float products over exactly decoded weights in both layouts: only the summation order differs
     * (1e-4 of the largest value of the final hidden state). The output layer and decode steps quantize activations
     * to int8, where a 1e-6 difference upstream can
     * flip a rounding and move a value by a whole step (1/127 of its block's maximum); such flips accumulate over
     * the steps through the KV cache, so decode logits are compared within 3e-2 and greedy tokens exactly.
     */
    private static void assertClose(float[] a, float[] b, float tolerance, String what) {
        float max = 0;
        for (float v : b) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > tolerance * max) {
                throw new AssertionError(what + ": logit " + i + " is " + a[i] + " repacked, " + b[i] + " as stored (max |logit| " + max + ")");
            }
        }
    }
}
