package io.github.chatglm4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileType} against llama.cpp's own choices: {@code llama-quantize-types.txt} lists the type llama-quantize
 * (c392e50, no importance matrix) gave every tensor of a 28-layer ChatGLM3-shaped model in each file type; its rows are
 * whole 256-blocks except ffn_down's, as in chatglm3-6b, so every rule and fallback of the mixes shows.
 */
class FileTypeTest {
    @TempDir
    Path tmp;

    /** file type name -> GGUF tensor name -> type, from the llama-quantize runs. */
    private static Map<String, Map<String, TensorType>> observed(Map<String, Integer> ids) {
        Map<String, Map<String, TensorType>> out = new HashMap<>();
        for (String line : resource("llama-quantize-types.txt").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split(" ");
            ids.put(f[0], Integer.parseInt(f[1]));
            Map<String, TensorType> types = out.computeIfAbsent(f[0], k -> new HashMap<>());
            boolean perLayer = !f[2].equals("output.weight") && !f[2].equals("token_embd.weight");
            for (int i = 3; i < f.length; i++) {
                types.put(perLayer ? "blk." + (i - 3) + "." + f[2] : f[2], TensorType.parse(f[i]).orElseThrow());
            }
        }
        return out;
    }

    private static String resource(String name) {
        try (InputStream in = Objects.requireNonNull(FileTypeTest.class.getResourceAsStream(name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyQuantizedFileTypeTypesTensorsAsLlamaQuantizeDid() throws IOException {
        ChatGLMConfig c = ChatGLMConfig.read(Files.writeString(tmp.resolve("config.json"), resource("llama-quantize-config.json")));
        assertThat(c.numLayers()).isEqualTo(28);
        Map<String, Integer> ids = new HashMap<>();
        Map<String, Map<String, TensorType>> observed = observed(ids);
        Set<String> quantized = java.util.Arrays.stream(FileType.values()).filter(t -> t.base().isQuantized())
                .map(Enum::name).collect(Collectors.toSet());
        assertThat(observed.keySet()).as("file types run through llama-quantize").isEqualTo(quantized);
        List<String> differences = new ArrayList<>();
        for (var e : observed.entrySet()) {
            FileType type = FileType.parse(e.getKey()).orElseThrow();
            assertThat(type.id()).as("%s general.file_type", type).isEqualTo(ids.get(e.getKey()));
            int matrices = 0;
            for (ChatGLMLayout.Entry t : ChatGLMLayout.entries(c)) {
                TensorType ours = type.typeOf(t.gguf(), t.ne(), c.numLayers());
                if (t.ne().length == 1) {
                    assertThat(ours).isEqualTo(TensorType.F32);
                    continue;
                }
                matrices++;
                TensorType theirs = e.getValue().get(t.gguf());
                if (ours != theirs) {
                    differences.add(type + " " + t.gguf() + ": " + ours + ", llama-quantize " + theirs);
                }
            }
            assertThat(matrices).as("matrices of %s", type).isEqualTo(e.getValue().size());
        }
        assertThat(differences).as("tensors typed differently from llama-quantize").isEmpty();
    }

    @Test
    void floatFileTypesKeepEveryMatrixInTheirType() {
        long[] ffnDown = {13696, 4096};
        assertThat(FileType.F16.typeOf("blk.3.ffn_down.weight", ffnDown, 28)).isEqualTo(TensorType.F16);
        assertThat(FileType.BF16.typeOf("output.weight", new long[] {4096, 65024}, 28)).isEqualTo(TensorType.BF16);
        assertThat(FileType.F32.typeOf("blk.0.attn_norm.weight", new long[] {4096}, 28)).isEqualTo(TensorType.F32);
    }

    @Test
    void pureFileTypesPutEveryMatrixInTheBaseTypeOrRefuseTheRow() {
        assertThat(FileType.Q4_K_M.pureTypeOf("output.weight", new long[] {4096, 65024})).isEqualTo(TensorType.Q4_K);
        assertThat(FileType.Q4_K_M.pureTypeOf("blk.0.ffn_norm.weight", new long[] {4096})).isEqualTo(TensorType.F32);
        assertThatThrownBy(() -> FileType.Q4_K_S.pureTypeOf("blk.0.ffn_down.weight", new long[] {13696, 4096}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("13696").hasMessageContaining("256");
    }

    @Test
    void namesParseInAnyCaseAndEachTypeHasItsMostlyFileType() {
        assertThat(FileType.parse("q3_k_m")).contains(FileType.Q3_K_M);
        assertThat(FileType.parse("Q4_K")).isEmpty();
        assertThat(FileType.mostly(TensorType.Q4_K)).contains(FileType.Q4_K_S);
        for (TensorType t : TensorType.values()) {
            assertThat(FileType.mostly(t)).as("a file type mostly %s", t).isPresent();
        }
    }
}
