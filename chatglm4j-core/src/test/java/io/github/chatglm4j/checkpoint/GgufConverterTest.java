package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.format.gguf.GgufType;
import io.github.chatglm4j.format.gguf.GgufValue;
import io.github.chatglm4j.format.gguf.RowEncoder;
import io.github.chatglm4j.format.safetensors.SafetensorsFile;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.TokenizerFixtures;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The converter writes what llama.cpp's convert_hf_to_gguf.py writes for ChatGLM3 (the key/type/tensor tables of
 * docs/peers-cpp.md section B), with the source weights unchanged where the type allows.
 */
class GgufConverterTest {
    @TempDir
    Path dir;

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void metadataHasTheKeysAndValueTypesOfLlamaCppsConverter() {
        try (GgufFile f = GgufFile.open(GgufFixtures.model("tiny-chatglm3-32k", TensorType.F16))) {
            var expected = new LinkedHashMap<String, GgufValue>();
            expected.put("general.architecture", new GgufValue.Text("chatglm"));
            expected.put("general.file_type", new GgufValue.Int(GgufType.UINT32, 1));
            expected.put("chatglm.context_length", new GgufValue.Int(GgufType.UINT32, 32768));
            expected.put("chatglm.embedding_length", new GgufValue.Int(GgufType.UINT32, 64));
            expected.put("chatglm.feed_forward_length", new GgufValue.Int(GgufType.UINT32, 192));
            expected.put("chatglm.block_count", new GgufValue.Int(GgufType.UINT32, 2));
            expected.put("chatglm.attention.head_count", new GgufValue.Int(GgufType.UINT32, 4));
            expected.put("chatglm.attention.head_count_kv", new GgufValue.Int(GgufType.UINT32, 2));
            expected.put("chatglm.attention.layer_norm_rms_epsilon", new GgufValue.Real(GgufType.FLOAT32, 1e-5f));
            expected.put("chatglm.rope.dimension_count", new GgufValue.Int(GgufType.UINT32, 8)); // head 16 x 0.5
            expected.put("chatglm.rope.freq_base", new GgufValue.Real(GgufType.FLOAT32, 500000f)); // 10000 x rope_ratio 50
            expected.put("tokenizer.ggml.model", new GgufValue.Text("llama"));
            expected.put("tokenizer.ggml.pre", new GgufValue.Text("chatglm-spm"));
            expected.put("tokenizer.ggml.add_bos_token", new GgufValue.Bool(false));
            expected.put("tokenizer.ggml.eos_token_id", new GgufValue.Int(GgufType.UINT32, 2));
            expected.put("tokenizer.ggml.padding_token_id", new GgufValue.Int(GgufType.UINT32, 0));
            expected.put("general.quantization_version", new GgufValue.Int(GgufType.UINT32, 2));
            expected.put("general.name", new GgufValue.Text("tiny-chatglm3-32k"));
            expected.put("general.type", new GgufValue.Text("model"));
            expected.put("tokenizer.chat_template", new GgufValue.Text(GgufModelWriter.CHAT_TEMPLATE));
            expected.forEach((k, v) -> assertThat(f.value(k)).as(k).contains(v));

            for (String key : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
                assertThat(f.array(key).orElseThrow().size()).as(key).isEqualTo(65024);
            }
            assertThat(f.array("tokenizer.ggml.tokens").orElseThrow().elementType()).isEqualTo(GgufType.STRING);
            assertThat(f.array("tokenizer.ggml.scores").orElseThrow().elementType()).isEqualTo(GgufType.FLOAT32);
            assertThat(f.array("tokenizer.ggml.token_type").orElseThrow().elementType()).isEqualTo(GgufType.INT32);
            assertThat(f.metadata().keySet()).hasSize(expected.size() + 3);
        }
        try (GgufFile f = GgufFile.open(GgufFixtures.model("tiny-chatglm3", TensorType.F32))) {
            assertThat(f.uint("chatglm.context_length")).contains(8192L);
            assertThat(f.real("chatglm.rope.freq_base")).as("rope_ratio absent").contains(10000.0);
            assertThat(f.uint("general.file_type")).contains(0L);
        }
        try (GgufFile f = GgufFile.open(GgufFixtures.model("tiny-chatglm3-32k", TensorType.BF16))) {
            assertThat(f.uint("general.file_type")).contains(32L);
        }
        assertThat(GgufModelWriter.fileType(TensorType.Q8_0)).isEqualTo(7);
        assertThat(GgufModelWriter.fileType(TensorType.Q4_0)).isEqualTo(2);
    }

    @Test
    void theVocabularyIsSpelledAsLlamaCppSpellsIt() {
        try (GgufFile f = GgufFile.open(GgufFixtures.model("tiny-chatglm3", TensorType.F16))) {
            List<String> tokens = f.strings("tokenizer.ggml.tokens").orElseThrow();
            int[] types = f.ints("tokenizer.ggml.token_type").orElseThrow();
            float[] scores = f.floats("tokenizer.ggml.scores").orElseThrow();
            assertThat(tokens.subList(0, 3)).containsExactly("<unk>", "<bos>", "<eos>");
            assertThat(types[0]).as("unknown").isEqualTo(2);
            assertThat(types[1]).as("control").isEqualTo(3);
            assertThat(types[2]).as("control").isEqualTo(3);
            assertThat(tokens.get(13)).isEqualTo("<0x0A>");
            assertThat(types[13]).as("byte").isEqualTo(6);
            assertThat(tokens.get(30910)).isEqualTo("▁");
            assertThat(types[30910]).as("normal").isEqualTo(1);
            TokenizerFixtures.cases().get("special_tokens").properties().forEach(e -> {
                int id = e.getValue().asInt();
                assertThat(tokens.get(id)).isEqualTo(e.getKey());
                assertThat(types[id]).as("%s is control", e.getKey()).isEqualTo(3);
                assertThat(scores[id]).isZero();
            });
            for (int id = 64798; id < 65024; id++) {
                assertThat(tokens.get(id)).isEqualTo("[PAD" + id + "]");
                assertThat(types[id]).as("padding %d is unused", id).isEqualTo(5);
                assertThat(scores[id]).isZero();
            }
        }
    }

    @Test
    void tensorsHaveLlamaCppsNamesDimensionsAndTypes() {
        try (GgufFile f = GgufFile.open(GgufFixtures.model("tiny-chatglm3", TensorType.F16))) {
            var expected = new LinkedHashMap<String, long[]>();
            expected.put("token_embd.weight", new long[]{64, 65024});
            for (int l = 0; l < 2; l++) {
                String b = "blk." + l + ".";
                expected.put(b + "attn_norm.weight", new long[]{64});
                expected.put(b + "attn_qkv.weight", new long[]{64, 128}); // (4 heads + 2 x 2 groups) x 16
                expected.put(b + "attn_qkv.bias", new long[]{128});
                expected.put(b + "attn_output.weight", new long[]{64, 64});
                expected.put(b + "ffn_norm.weight", new long[]{64});
                expected.put(b + "ffn_up.weight", new long[]{64, 384});
                expected.put(b + "ffn_down.weight", new long[]{192, 64});
            }
            expected.put("output_norm.weight", new long[]{64});
            expected.put("output.weight", new long[]{64, 65024});
            assertThat(f.tensors()).extracting(GgufTensor::name).containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (GgufTensor t : f.tensors()) {
                assertThat(t.ne()).as("ne of %s", t.name()).containsExactly(expected.get(t.name()));
                assertThat(t.type()).as("type of %s", t.name()).isEqualTo(t.ne().length == 1 ? TensorType.F32 : TensorType.F16);
            }
        }
    }

    @Test
    void weightsKeepTheirValues() {
        Path tiny = Fixtures.tinyModel();
        try (GgufFile f16 = GgufFile.open(GgufFixtures.model("tiny-chatglm3", TensorType.F16));
             GgufFile f32 = GgufFile.open(GgufFixtures.model("tiny-chatglm3", TensorType.F32));
             SafetensorsFile shard1 = SafetensorsFile.open(tiny.resolve("model-00001-of-00002.safetensors"));
             SafetensorsFile shard2 = SafetensorsFile.open(tiny.resolve("model-00002-of-00002.safetensors"))) {
            var source = new LinkedHashMap<String, TensorEntry>();
            shard1.tensors().forEach(t -> source.put(t.name(), t));
            shard2.tensors().forEach(t -> source.put(t.name(), t));
            int compared = 0;
            for (GgufTensor t : f16.tensors()) {
                TensorEntry src = source.get(ChatGLMLayout.hfName(t.name()));
                assertThat(src.type()).isEqualTo(TensorType.F16);
                long n = src.elementCount();
                GgufTensor wide = f32.tensor(t.name()).orElseThrow();
                for (long i = 0; i < n; i++) {
                    float want = Float.float16ToFloat(src.data().get(SHORT, 2 * i));
                    assertThat(wide.data().get(FLOAT, 4 * i)).as("%s[%d] in the F32 file", t.name(), i).isEqualTo(want);
                    if (t.type() == TensorType.F16) {
                        assertThat(t.data().get(SHORT, 2 * i)).as("%s[%d] in the F16 file", t.name(), i).isEqualTo(src.data().get(SHORT, 2 * i));
                    } else {
                        assertThat(t.data().get(FLOAT, 4 * i)).as("%s[%d] (1-D, F32) in the F16 file", t.name(), i).isEqualTo(want);
                    }
                }
                compared++;
            }
            assertThat(compared).isEqualTo(17);
        }
    }

    @Test
    void aChatTemplateOfTheTokenizerConfigIsCopied() throws IOException {
        Path hf = Files.createDirectory(dir.resolve("chatglm3-6b-32k-like"));
        for (String name : List.of("config.json", "tokenizer.model", "model.safetensors")) {
            Files.copy(Fixtures.tinyModel32k().resolve(name), hf.resolve(name));
        }
        Path tokenizerConfig = Fixtures.root().resolve("configs/chatglm3-6b-32k/tokenizer_config.json");
        Files.copy(tokenizerConfig, hf.resolve("tokenizer_config.json"));
        String template = new ObjectMapper().readTree(tokenizerConfig.toFile()).get("chat_template").asText();
        Path out = dir.resolve("t.gguf");
        GgufModelWriter.convert(hf, out, TensorType.BF16, RowEncoder.floats(), LoadProgress.NONE, false);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.string("tokenizer.chat_template")).contains(template);
            assertThat(f.string("general.name")).contains("chatglm3-6b-32k-like");
        }
    }

    @Test
    void progressCountsTheBytesWrittenUpToTheTotal() throws IOException {
        List<long[]> updates = new ArrayList<>();
        Path out = dir.resolve("p.gguf");
        GgufModelWriter.convert(Fixtures.tinyModel(), out, TensorType.F16, RowEncoder.floats(), (stage, done, total) -> {
            assertThat(stage).isEqualTo("writing");
            synchronized (updates) {
                updates.add(new long[]{done, total});
            }
        }, false);
        long tensorBytes;
        try (GgufFile f = GgufFile.open(out)) {
            tensorBytes = f.tensors().stream().mapToLong(t -> t.data().byteSize()).sum();
        }
        assertThat(updates.size()).isGreaterThan(17);
        for (int i = 1; i < updates.size(); i++) {
            assertThat(updates.get(i)[0]).as("update %d does not go back", i).isGreaterThanOrEqualTo(updates.get(i - 1)[0]);
            assertThat(updates.get(i)[1]).isEqualTo(tensorBytes);
        }
        assertThat(updates.getLast()[0]).isEqualTo(tensorBytes);
    }

    @Test
    void quantizedTypesNeedAQuantizingEncoderAndNothingIsWrittenWithout() {
        Path out = dir.resolve("q.gguf");
        assertThatThrownBy(() -> GgufModelWriter.convert(Fixtures.tinyModel(), out, TensorType.Q8_0, RowEncoder.floats(), LoadProgress.NONE, false))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q8_0 is a quantized type");
        assertThat(out).doesNotExist();
        assertThat(dir.resolve("q.gguf.tmp")).doesNotExist();
    }

    @Test
    void anExistingOutputIsKeptUnlessOverwriteIsAsked() throws IOException {
        Path out = Files.writeString(dir.resolve("x.gguf"), "old");
        assertThatThrownBy(() -> GgufModelWriter.convert(Fixtures.tinyModel(), out, TensorType.F16, RowEncoder.floats(), LoadProgress.NONE, false))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(out)).isEqualTo("old");
        GgufModelWriter.convert(Fixtures.tinyModel(), out, TensorType.F16, RowEncoder.floats(), LoadProgress.NONE, true);
        assertThat(GgufFile.isGguf(out)).isTrue();
    }

    @Test
    void aBrokenSourceIsReportedBeforeWriting() throws IOException {
        Path hf = Files.createDirectory(dir.resolve("broken"));
        Files.copy(Fixtures.tinyModel().resolve("config.json"), hf.resolve("config.json"));
        Path out = dir.resolve("b.gguf");
        assertThatThrownBy(() -> GgufModelWriter.convert(hf, out, TensorType.F16, RowEncoder.floats(), LoadProgress.NONE, false))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tokenizer.model");
        Files.copy(Fixtures.tinyModel().resolve("tokenizer.model"), hf.resolve("tokenizer.model"));
        assertThatThrownBy(() -> GgufModelWriter.convert(hf, out, TensorType.F16, RowEncoder.floats(), LoadProgress.NONE, false))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no weights found");
        assertThat(out).doesNotExist();
    }

    @Test
    void aModelFromAFillCallbackHasTheConverterMetadataAndLoads() throws IOException {
        Path out = MicroModel.writeWithModelWriter(dir.resolve("r.gguf"), TensorType.F32, LoadProgress.NONE);
        Map<String, GgufValue> expected = GgufModelWriter.metadata(MicroModel.CONFIG, MicroModel.vocabulary(), "micro", 0, GgufModelWriter.CHAT_TEMPLATE);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.metadata()).containsExactlyEntriesOf(expected);
            assertThat(f.tensors()).allSatisfy(t -> assertThat(t.type()).isEqualTo(TensorType.F32));
        }
        try (ChatGLM glm = ChatGLM.load(out, LoadOptions.defaults().withThreads(1).withPreload(false))) {
            assertThat(glm.config()).isEqualTo(MicroModel.CONFIG);
            assertThat(glm.contextSize()).isEqualTo(64);
        }
    }

    @Test
    void aTypePolicyRefusesRowsThatAreNotWholeBlocks() {
        assertThatThrownBy(() -> GgufModelWriter.plan(MicroModel.CONFIG, GgufModelWriter.TypePolicy.uniform(TensorType.Q4_K)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor 'token_embd.weight' has rows of 8 values, not a multiple of the Q4_K block size 256; it needs another type");
    }
}
