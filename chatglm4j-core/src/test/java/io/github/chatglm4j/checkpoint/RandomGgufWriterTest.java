package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.model.KvType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Random benchmark files must be typed like llama.cpp's quantizer types a real chatglm3-6b conversion. */
class RandomGgufWriterTest {
    @TempDir
    Path tmp;

    private static ChatGLMConfig sixB() {
        return ChatGLMConfig.read(Fixtures.root().resolve("configs/chatglm3-6b/config.json"));
    }

    private static Map<String, TensorType> types(List<GgufModelWriter.PlannedTensor> plan) {
        Map<String, TensorType> m = new HashMap<>();
        plan.forEach(t -> m.put(t.name(), t.type()));
        return m;
    }

    private static long bytes(ChatGLMConfig c, FileType mix) {
        return RandomGgufWriter.plan(c, mix).stream().mapToLong(GgufModelWriter.PlannedTensor::byteSize).sum();
    }

    @Test
    void q4KmMixesTypesAsLlamaQuantizeDoesForChatGLM3() {
        Map<String, TensorType> t = types(RandomGgufWriter.plan(sixB(), FileType.Q4_K_M));
        // Types observed in a llama-quantize Q4_K_M file of chatglm3-6b (../shared/docs/peers-cpp.md).
        assertThat(t.get("token_embd.weight")).isEqualTo(TensorType.Q4_K);
        assertThat(t.get("output.weight")).isEqualTo(TensorType.Q6_K);
        assertThat(t.get("blk.0.attn_qkv.weight")).isEqualTo(TensorType.Q5_K);
        assertThat(t.get("blk.0.attn_output.weight")).isEqualTo(TensorType.Q4_K);
        assertThat(t.get("blk.0.ffn_up.weight")).isEqualTo(TensorType.Q4_K);
        assertThat(t.get("blk.0.attn_norm.weight")).isEqualTo(TensorType.F32);
        long q8 = t.entrySet().stream().filter(e -> e.getKey().endsWith("ffn_down.weight") && e.getValue() == TensorType.Q8_0).count();
        long q5 = t.entrySet().stream().filter(e -> e.getKey().endsWith("ffn_down.weight") && e.getValue() == TensorType.Q5_0).count();
        assertThat(q8).as("ffn_down layers with more bits (Q6_K falls back to Q8_0)").isEqualTo(14);
        assertThat(q5).as("other ffn_down layers (Q4_K falls back to Q5_0)").isEqualTo(14);
    }

    @Test
    void q4_0KeepsTheOutputLayerInQ6K() {
        Map<String, TensorType> t = types(RandomGgufWriter.plan(sixB(), FileType.Q4_0));
        assertThat(t.get("output.weight")).isEqualTo(TensorType.Q6_K);
        assertThat(t.get("token_embd.weight")).isEqualTo(TensorType.Q4_0);
        assertThat(t.get("blk.27.ffn_down.weight")).isEqualTo(TensorType.Q4_0);
    }

    @Test
    void fullSizeTensorBytesMatchLlamaCppFiles() {
        // File sizes llama-quantize wrote for chatglm3-6b (peers-cpp.md); ours differ only by the header
        // (vocabulary strings and metadata, a few MB).
        ChatGLMConfig c = sixB();
        assertThat((double) bytes(c, FileType.Q4_0)).isCloseTo(3_583_284_256.0, within(5e6));
        assertThat((double) bytes(c, FileType.Q8_0)).isCloseTo(6_636_229_664.0, within(5e6));
        assertThat((double) bytes(c, FileType.Q4_K_M)).isCloseTo(4_140_209_184.0, within(5e6));
        assertThat((double) bytes(c, FileType.F16)).isCloseTo(12_489_249_760.0, within(5e6));
    }

    @Test
    void aWrittenFileLoadsWithTheTypesItDeclares() throws Exception {
        ChatGLMConfig c = ChatGLMConfig.read(Fixtures.tinyModel().resolve("config.json"));
        ChatGLMTokenizer tok = ChatGLMTokenizer.load(Fixtures.tinyModel().resolve("tokenizer.model"));
        Path out = tmp.resolve("random.gguf");
        RandomGgufWriter.write(out, c, tok, FileType.Q4_K_M, 7, 2, LoadProgress.NONE, false);
        Map<String, TensorType> planned = types(RandomGgufWriter.plan(c, FileType.Q4_K_M));
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensors()).hasSize(planned.size());
            f.tensors().forEach(t -> assertThat(t.type()).as(t.name()).isEqualTo(planned.get(t.name())));
            // Hidden size 64 is not a multiple of 256: every K-quant fell back to a 32-block type.
            assertThat(f.tensors()).noneMatch(t -> t.type().blockSize() == 256);
            assertThat(f.uint("general.file_type")).contains(15L);
        }
        try (ChatGLM glm = ChatGLM.load(out, LoadOptions.defaults().withThreads(1).withContextSize(16))) {
            assertThat(glm.config().hiddenSize()).isEqualTo(c.hiddenSize());
            assertThat(glm.tokenizer().encode("你好")).containsExactly(tok.encode("你好"));
        }
    }

    /**
     * A file typed like the community's Q3_K_M conversions (Q3_K, Q4_K, Q6_K, and Q5_1/Q5_0 for ffn_down), on a
     * two-layer model whose rows are whole 256-blocks (hidden 256) except ffn_down's (ffn 384, as 13696 in
     * chatglm3-6b), loads and produces finite logits through the int8 kernels. (Q2_K and IQ4_XS work the same way;
     * their 65024-row embeddings take 10 s to quantize here, and every type runs in LlamaQuantizeFilesTest.)
     */
    @ParameterizedTest
    @EnumSource(names = {"Q3_K_M"})
    void communityMixesLoadAndRun(FileType mix) throws Exception {
        String json = Files.readString(Fixtures.tinyModel().resolve("config.json"))
                .replace("\"hidden_size\": 64", "\"hidden_size\": 256").replace("\"ffn_hidden_size\": 192", "\"ffn_hidden_size\": 384")
                .replace("\"kv_channels\": 16", "\"kv_channels\": 64");
        Path config = Files.writeString(tmp.resolve("config.json"), json);
        ChatGLMConfig c = ChatGLMConfig.read(config);
        assertThat(c.hiddenSize()).isEqualTo(256);
        assertThat(c.ffnHiddenSize()).isEqualTo(384);
        ChatGLMTokenizer tok = ChatGLMTokenizer.load(Fixtures.tinyModel().resolve("tokenizer.model"));
        Path out = tmp.resolve(mix.label() + ".gguf");
        RandomGgufWriter.write(out, c, tok, mix, 3, 2, LoadProgress.NONE, false);
        Map<String, TensorType> planned = types(RandomGgufWriter.plan(c, mix));
        assertThat(planned.values()).as("%s uses its base type", mix).contains(mix.base());
        try (ChatGLM glm = ChatGLM.load(out, LoadOptions.defaults().withThreads(2).withContextSize(16))) {
            glm.model().weights().matrices().forEach((name, m) -> assertThat(m.type()).as(name).isIn(planned.values()));
            KvCache cache = new KvCache(glm.config(), 16, KvType.F32);
            float[] logits = glm.model().logits(glm.model().forward(cache, tok.encode("你好"), null), 0);
            assertThat(logits).hasSize(c.vocabSize());
            for (float v : logits) {
                assertThat(v).as("%s logit", mix).isFinite();
            }
        }
    }
}
