package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RandomModelCommandTest {
    private static final Path TOKENIZER = Cli.fixtures().resolve("tokenizer/tokenizer.model");

    /** The tiny fixture's config with one layer: the real layout, small sizes. */
    private static Path tinyConfig(Path dir) throws IOException {
        ObjectNode config = (ObjectNode) Cli.json(Cli.tiny().resolve("config.json"));
        config.put("num_layers", 1);
        Path file = dir.resolve("tiny-config.json");
        Files.writeString(file, new ObjectMapper().writeValueAsString(config));
        return file;
    }

    @Test
    void writesADirectoryThatLoadsAndGenerates(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("model");
        Cli.Run run = Cli.run("random-model", "-o", out.toString(), "--config", tinyConfig(tmp).toString(),
                "--tokenizer", TOKENIZER.toString(), "--type", "bf16", "--seed", "7");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.out()).startsWith("wrote " + out + ": ");
        assertThat(run.err()).as("plain progress lines off a terminal").contains("writing: 100%");
        assertThat(Cli.json(out.resolve("config.json")).get("torch_dtype").asText()).isEqualTo("bfloat16");
        assertThat(Files.mismatch(out.resolve("tokenizer.model"), TOKENIZER)).as("tokenizer copied as is").isEqualTo(-1);

        try (ChatGLM glm = ChatGLM.load(out)) {
            assertThat(glm.config().numLayers()).isEqualTo(1);
            assertThat(glm.model().weights().matrixType()).isEqualTo(TensorType.BF16);
            Generation g = glm.complete("Hello", GenerationOptions.completion(SamplingParams.greedy(), 3), TokenListener.NONE);
            assertThat(g.finishReason()).isIn(FinishReason.LENGTH, FinishReason.STOP);
            assertThat(g.ids().length).isBetween(0, 3);
        }
        Cli.Run generate = Cli.run("generate", "-m", out.toString(), "--prompt", "Hello", "--max-new-tokens", "2", "--json");
        assertThat(generate.exitCode()).as("the CLI loads it too: %s", generate).isZero();
    }

    @Test
    void theSameSeedWritesTheSameWeights(@TempDir Path tmp) throws IOException {
        Path config = tinyConfig(tmp);
        for (String name : new String[]{"a", "b"}) {
            Cli.Run run = Cli.run("random-model", "-o", tmp.resolve(name).toString(), "--config", config.toString(),
                    "--tokenizer", TOKENIZER.toString(), "--seed", "3");
            assertThat(run.exitCode()).as("%s", run).isZero();
        }
        try (var files = Files.list(tmp.resolve("a"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                assertThat(Files.mismatch(f, tmp.resolve("b").resolve(f.getFileName()))).as("%s", f.getFileName()).isEqualTo(-1);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"6b, chatglm3-6b", "32k, chatglm3-6b-32k", "128k, chatglm3-6b-128k", "base, chatglm3-6b-base"})
    void theEmbeddedConfigsAreThePublishedOnes(String name, String fixture) throws IOException {
        JsonNode published = Cli.json(Cli.fixtures().resolve("configs").resolve(fixture).resolve("config.json"));
        try (InputStream in = RandomModelCommand.class.getResourceAsStream(RandomModelCommand.CONFIGS.get(name))) {
            assertThat(in).as("resource for --config %s", name).isNotNull();
            assertThat(new ObjectMapper().readTree(in)).isEqualTo(published);
        }
    }

    @Test
    void withoutATokenizerItSaysWhereToGetOne(@TempDir Path tmp) {
        Cli.Run run = Cli.run("random-model", "-o", tmp.resolve("m").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.errLines()).singleElement().asString()
                .startsWith("chatglm: random-model needs ChatGLM3's tokenizer.model: pass --tokenizer FILE")
                .contains("huggingface.co");
        assertThat(tmp.resolve("m")).doesNotExist();
    }

    @Test
    void aNonEmptyDirectoryNeedsForceAndABadTypeIsAUsageError(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("keep.txt"), "mine");
        Cli.Run full = Cli.run("random-model", "-o", tmp.toString(), "--tokenizer", TOKENIZER.toString());
        assertThat(full.exitCode()).isEqualTo(1);
        assertThat(full.errLines()).containsExactly("chatglm: " + tmp + ": directory is not empty (use --force to write into it)");

        Cli.Run type = Cli.run("random-model", "-o", tmp.resolve("x").toString(), "--type", "q4", "--tokenizer", TOKENIZER.toString());
        assertThat(type.exitCode()).isEqualTo(2);
        assertThat(type.errLines()).singleElement().asString().contains("--type must be f16, bf16 or f32, got 'q4'");

        Cli.Run config = Cli.run("random-model", "-o", tmp.resolve("y").toString(), "--config", "7b", "--tokenizer", TOKENIZER.toString());
        assertThat(config.exitCode()).isEqualTo(1);
        assertThat(config.errLines()).containsExactly("chatglm: --config '7b' is neither 6b, 32k, 128k, base nor an existing config.json");
    }
}
