package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.gguf.GgufArray;
import io.github.chatglm4j.format.gguf.GgufValue;
import io.github.chatglm4j.format.gguf.GgufWriter;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.tensor.TensorType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading a ChatGLM3 GGUF: config, tensor names and shapes, and a one-line error for each way a file can be wrong. */
class GgufCheckpointTest {
    @TempDir
    Path dir;

    private static LoadOptions options() {
        return LoadOptions.defaults().withThreads(1).withContextSize(64).withPreload(false);
    }

    @Test
    void aGgufFileLoadsThroughChatGLMLoadAndGenerates() throws IOException {
        Path file = MicroModel.write(dir.resolve("micro.gguf"));
        try (ChatGLM glm = ChatGLM.load(file, options())) {
            assertThat(glm.config()).isEqualTo(MicroModel.CONFIG);
            assertThat(glm.location()).isEqualTo(file);
            assertThat(glm.contextSize()).isEqualTo(64);
            Generation g = glm.complete("你好", GenerationOptions.completion(SamplingParams.greedy(), 3), (id, t) -> { });
            assertThat(g.promptTokens()).isEqualTo(4); // [gMASK] sop ▁你 好
            assertThat(g.ids()).hasSize(3);
        }
    }

    @Test
    void tensorsAppearUnderHuggingFaceNamesWithReversedShapes() throws IOException {
        Path file = MicroModel.write(dir.resolve("micro.gguf"));
        try (GgufCheckpoint c = GgufCheckpoint.open(file, LoadProgress.NONE)) {
            assertThat(c.tensors()).extracting(t -> t.name()).containsExactly(
                    "transformer.embedding.word_embeddings.weight",
                    "transformer.encoder.layers.0.input_layernorm.weight",
                    "transformer.encoder.layers.0.self_attention.query_key_value.weight",
                    "transformer.encoder.layers.0.self_attention.query_key_value.bias",
                    "transformer.encoder.layers.0.self_attention.dense.weight",
                    "transformer.encoder.layers.0.post_attention_layernorm.weight",
                    "transformer.encoder.layers.0.mlp.dense_h_to_4h.weight",
                    "transformer.encoder.layers.0.mlp.dense_4h_to_h.weight",
                    "transformer.encoder.final_layernorm.weight",
                    "transformer.output_layer.weight");
            var qkv = c.tensor("transformer.encoder.layers.0.self_attention.query_key_value.weight").orElseThrow();
            assertThat(qkv.shape()).as("[out, in] = GGUF ne reversed").containsExactly(16, 8);
            assertThat(qkv.type()).isEqualTo(TensorType.F16);
            assertThat(qkv.data().byteSize()).isEqualTo(16 * 8 * 2);
            assertThat(qkv.file()).isEqualTo(file);
            assertThat(c.tensor("transformer.encoder.layers.0.mlp.dense_4h_to_h.weight").orElseThrow().shape()).containsExactly(8, 8);
            assertThat(c.tensor("transformer.output_layer.weight").orElseThrow().shape()).containsExactly(65024, 8);
            assertThat(c.description()).isEqualTo("GGUF v3 file " + file);
            assertThat(c.file().architecture()).isEqualTo("chatglm");
        }
    }

    // ---- one error per defect ----

    private void assertRefused(Consumer<Map<String, GgufValue>> metadataChange, Consumer<List<GgufWriter.TensorSpec>> tensorChange,
                               String expected) throws IOException {
        var metadata = MicroModel.metadata();
        metadataChange.accept(metadata);
        var tensors = new ArrayList<>(MicroModel.tensors());
        tensorChange.accept(tensors);
        Path file = MicroModel.write(dir.resolve("bad.gguf"), metadata, tensors);
        assertThatThrownBy(() -> ChatGLM.load(file, options()).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": " + expected);
    }

    private void assertRefused(Consumer<Map<String, GgufValue>> metadataChange, String expected) throws IOException {
        assertRefused(metadataChange, t -> { }, expected);
    }

    @Test
    void anotherArchitectureIsNamed() throws IOException {
        assertRefused(m -> m.put("general.architecture", GgufValue.string("llama")),
                "general.architecture is 'llama', expected 'chatglm' (ChatGLM3)");
        assertRefused(m -> m.remove("general.architecture"), "has no general.architecture");
    }

    @Test
    void ropeDimensionsMustBeHalfTheHead() throws IOException {
        assertRefused(m -> m.put("chatglm.rope.dimension_count", GgufValue.u32(4)),
                "chatglm.rope.dimension_count is 4, but ChatGLM3 rotates half of each 4-wide head (2)");
        assertRefused(m -> m.remove("chatglm.rope.dimension_count"),
                "chatglm.rope.dimension_count is 4 (absent: the whole head), but ChatGLM3 rotates half of each 4-wide head (2)");
    }

    @Test
    void configKeysAreChecked() throws IOException {
        assertRefused(m -> m.remove("chatglm.block_count"), "missing chatglm.block_count");
        assertRefused(m -> m.put("chatglm.block_count", GgufValue.u32(0)), "chatglm.block_count is 0, expected a positive 32-bit integer");
        assertRefused(m -> m.put("chatglm.block_count", GgufValue.u32(Integer.MAX_VALUE)),
                "chatglm.block_count is 2147483647, but the file has only 10 tensors");
        assertRefused(m -> m.put("chatglm.attention.head_count", GgufValue.u32(3)),
                "chatglm.embedding_length 8 is not a multiple of the head count 3");
        assertRefused(m -> m.put("chatglm.attention.head_count", GgufValue.string("2")),
                "metadata 'chatglm.attention.head_count' is a string, expected an integer");
        assertRefused(m -> m.remove("chatglm.attention.layer_norm_rms_epsilon"), "missing chatglm.attention.layer_norm_rms_epsilon");
        assertRefused(m -> m.put("chatglm.attention.layer_norm_rms_epsilon", GgufValue.f32(Float.NaN)),
                "chatglm.attention.layer_norm_rms_epsilon must be positive, got NaN");
        assertRefused(m -> m.put("chatglm.rope.freq_base", GgufValue.f32(-1f)), "chatglm.rope.freq_base must be positive, got -1.0");
    }

    @Test
    void tensorShapesMustMatchTheConfig() throws IOException {
        assertRefused(m -> m.put("chatglm.feed_forward_length", GgufValue.u32(16)),
                "tensor 'blk.0.ffn_up.weight' has ne [8, 16], the config requires [8, 32]");
        assertRefused(m -> { }, t -> t.removeIf(s -> s.name().equals("blk.0.ffn_down.weight")),
                "tensor 'blk.0.ffn_down.weight' is missing");
        assertRefused(m -> { }, t -> t.removeIf(s -> s.name().equals("token_embd.weight")), "tensor 'token_embd.weight' is missing");
        assertRefused(m -> { }, t -> t.replaceAll(s -> s.name().equals("output.weight")
                        ? new GgufWriter.TensorSpec(s.name(), s.type(), new long[]{8, 65000}) : s),
                "tensor 'output.weight' has ne [8, 65000], the config requires [8, 65024]");
    }

    @Test
    void separateQueryKeyValueTensorsAreRefusedClearly() throws IOException {
        assertRefused(m -> { }, t -> {
            t.removeIf(s -> s.name().startsWith("blk.0.attn_qkv"));
            t.add(new GgufWriter.TensorSpec("blk.0.attn_q.weight", TensorType.F16, new long[]{8, 8}));
            t.add(new GgufWriter.TensorSpec("blk.0.attn_k.weight", TensorType.F16, new long[]{8, 4}));
            t.add(new GgufWriter.TensorSpec("blk.0.attn_v.weight", TensorType.F16, new long[]{8, 4}));
        }, "tensor 'blk.0.attn_q.weight': separate attn_q/attn_k/attn_v tensors (a GLM-4 style conversion) are not supported;"
                + " ChatGLM3 files have the fused attn_qkv");
    }

    @Test
    void theVocabularyMustBeThere() throws IOException {
        assertRefused(m -> m.put("tokenizer.ggml.model", GgufValue.string("gpt2")),
                "tokenizer.ggml.model is 'gpt2'; ChatGLM3 files use the SentencePiece vocabulary 'llama'");
        assertRefused(m -> m.remove("tokenizer.ggml.model"), "has no tokenizer.ggml.model: the file carries no vocabulary");
        assertRefused(m -> m.remove("tokenizer.ggml.scores"), "missing tokenizer.ggml.scores");
        assertRefused(m -> m.put("tokenizer.ggml.token_type", GgufArray.ofInts(1, 2, 3)),
                "tokenizer.ggml.* is not the ChatGLM3 vocabulary: 65024 tokens but 65024 scores and 3 types");
        var longer = new ArrayList<>(MicroModel.vocabulary().tokens());
        longer.add("extra");
        assertRefused(m -> m.put("tokenizer.ggml.tokens", GgufArray.ofStrings(longer)),
                "tokenizer.ggml.tokens has 65025 entries, more than the 65024 embedding rows");
        var renamed = new ArrayList<>(MicroModel.vocabulary().tokens());
        renamed.set(1000, renamed.get(1001)); // two normal pieces
        assertRefused(m -> m.put("tokenizer.ggml.tokens", GgufArray.ofStrings(renamed)), "tokenizer.ggml.* is not the ChatGLM3 vocabulary: piece '"
                + renamed.get(1001) + "' is defined twice (ids 1000 and 1001)");
    }

    private int typeFieldOf(byte[] file, String tensor) {
        byte[] name = tensor.getBytes(StandardCharsets.UTF_8);
        for (int i = 8; i + name.length < file.length; i++) {
            if (ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(i - 8) == name.length
                    && java.util.Arrays.equals(file, i, i + name.length, name, 0, name.length)) {
                int dims = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(i + name.length);
                return i + name.length + 4 + 8 * dims;
            }
        }
        throw new AssertionError(tensor + " not found");
    }

    @Test
    void anUnsupportedTensorTypeNamesTheTensorAndTheTypeId() throws IOException {
        Path file = MicroModel.write(dir.resolve("t.gguf"));
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(typeFieldOf(bytes, "blk.0.ffn_down.weight"), 16);
        Files.write(file, bytes);
        assertThatThrownBy(() -> ChatGLM.load(file, options())).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(file + ": tensor 'blk.0.ffn_down.weight' has ggml type 16 (IQ2_XXS), which chatglm4j cannot read");
    }

    @Test
    void dataPastTheEndOfTheFileIsReported() throws IOException {
        Path file = MicroModel.write(dir.resolve("t.gguf"));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> ChatGLM.load(file, options())).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(file + ": tensor 'output.weight' [8, 65024] F16 needs bytes ")
                .hasMessageEndingWith("(file truncated?)");
    }

    @Test
    void aFileThatIsNeitherADirectoryNorGgufIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("model.bin"), "not a model");
        assertThatThrownBy(() -> ChatGLM.load(file, options())).isInstanceOf(ModelFormatException.class)
                .hasMessage(file + ": not a model directory or GGUF file");
    }
}
