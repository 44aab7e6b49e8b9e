package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConvertCommandTest {
    @TempDir
    Path tmp;

    private static int[] greedy(Path model, int[] prompt, int n) {
        Cli.Run run = Cli.run("generate", "-m", model.toString(), "--json", "--temperature", "0",
                "--prompt-ids", Cli.csv(prompt), "--max-new-tokens", String.valueOf(n));
        assertThat(run.exitCode()).as("%s", run).isZero();
        return Cli.ints(Cli.json(run.outLines().getFirst()).get("ids"));
    }

    @Test
    void anF32ConversionReproducesTheReferenceGreedyIds() {
        Path out = tmp.resolve("tiny-f32.gguf");
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", out.toString(), "--type", "f32");
        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.out()).contains("wrote " + out).contains("F32 matrices");

        JsonNode expected = Cli.json(Cli.tiny().resolve("expected.json"));
        int[] want = Cli.ints(expected.get("greedy_ids"));
        assertThat(greedy(out, Cli.ints(expected.get("input_ids")), want.length))
                .as("greedy ids from the converted single file (vocabulary from the GGUF)").containsExactly(want);
    }

    @Test
    void quantizedConversionStoresMatricesInTheTypeAndVectorsInF32() throws Exception {
        Path out = tmp.resolve("tiny-q4_0.gguf");
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", out.toString(), "--type", "Q4_0");
        assertThat(run.exitCode()).as("%s", run).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            for (GgufTensor t : f.tensors()) {
                assertThat(t.type()).as(t.name()).isEqualTo(t.ne().length == 1 ? TensorType.F32 : TensorType.Q4_0);
            }
            assertThat(f.uint("general.file_type")).as("llama_ftype MOSTLY_Q4_0").contains(2L);
        }
    }

    /**
     * The tiny model's rows (64 and 192 values) are not whole 256-blocks, so llama-quantize's Q4_K_M choices all take
     * their fallbacks: attn_qkv Q5_K -> Q5_1; token_embd, attn_output, ffn_up Q4_K -> Q5_0; ffn_down Q4_K -> Q5_0 in
     * layer 0 and Q6_K -> Q8_0 in layer 1 (of 2, the last eighth gets more bits); output Q6_K -> Q8_0.
     */
    @Test
    void aQ4KmConversionIsTypedAsLlamaQuantizeTypesItAndRuns() throws Exception {
        Path out = tmp.resolve("tiny-q4_k_m.gguf");
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", out.toString(), "--type", "q4_k_m");
        assertThat(run.exitCode()).as("%s", run).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.uint("general.file_type")).as("llama_ftype MOSTLY_Q4_K_M").contains(15L);
            java.util.Map<String, TensorType> want = java.util.Map.of("token_embd.weight", TensorType.Q5_0,
                    "blk.0.attn_qkv.weight", TensorType.Q5_1, "blk.1.attn_output.weight", TensorType.Q5_0,
                    "blk.0.ffn_up.weight", TensorType.Q5_0, "blk.0.ffn_down.weight", TensorType.Q5_0,
                    "blk.1.ffn_down.weight", TensorType.Q8_0, "output.weight", TensorType.Q8_0, "blk.1.attn_norm.weight", TensorType.F32);
            want.forEach((name, type) -> assertThat(f.tensor(name).orElseThrow().type()).as(name).isEqualTo(type));
        }
        JsonNode expected = Cli.json(Cli.tiny().resolve("expected.json"));
        assertThat(greedy(out, Cli.ints(expected.get("input_ids")), 4)).as("greedy ids of the mixed file").hasSize(4);
    }

    @Test
    void anExistingFileIsKeptWithoutForce() throws Exception {
        Path out = Files.writeString(tmp.resolve("keep.gguf"), "precious");
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", out.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("exists").contains("--force");
        assertThat(Files.readString(out)).isEqualTo("precious");
    }

    @Test
    void anUnknownTypeIsAUsageError() {
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", tmp.resolve("x.gguf").toString(), "--type", "q3_k");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--type must be");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }

    @Test
    void aMissingDirectoryIsOneLine() {
        Cli.Run run = Cli.run("convert", "-m", tmp.resolve("nope").toString(), "-o", tmp.resolve("x.gguf").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.errLines()).singleElement().asString().contains("no such directory");
    }

    @Test
    void randomModelWritesAGgufFileWhenTheOutputEndsInGguf() throws Exception {
        Path out = tmp.resolve("random-q8.gguf");
        Cli.Run run = Cli.run("random-model", "-o", out.toString(), "--config", Cli.tiny().resolve("config.json").toString(),
                "--type", "q8_0", "--tokenizer", Cli.tiny().resolve("tokenizer.model").toString());
        assertThat(run.exitCode()).as("%s", run).isZero();
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.tensor("blk.0.attn_qkv.weight").orElseThrow().type()).isEqualTo(TensorType.Q8_0);
            assertThat(f.architecture()).isEqualTo("chatglm");
        }
        Cli.Run bad = Cli.run("random-model", "-o", tmp.resolve("r.gguf").toString(), "--type", "iq2_xxs",
                "--tokenizer", Cli.tiny().resolve("tokenizer.model").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("unknown weight type 'iq2_xxs'");
    }
}
