package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class GenerateCommandTest {

    /** The fixture's prompt, greedily continued for all 24 fixture tokens: exactly the reference ids, cut by length. */
    private static void greedyMatchesReference(Path model) {
        JsonNode expected = Cli.json(model.resolve("expected.json"));
        int[] prompt = Cli.ints(expected.get("input_ids"));
        int[] greedy = Cli.ints(expected.get("greedy_ids"));

        // an F32 KV cache, as the reference (the closest top-2 gap along greedy_ids is 0.0012)
        Cli.Run run = Cli.run("generate", "-m", model.toString(), "--json", "--temperature", "0", "--kv-type", "f32",
                "--prompt-ids", Cli.csv(prompt), "--max-new-tokens", String.valueOf(greedy.length));

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).as("--json prints exactly one line").hasSize(1);
        JsonNode line = Cli.json(run.outLines().getFirst());
        assertThat(Cli.ints(line.get("ids"))).as("generated ids vs the reference greedy_ids").containsExactly(greedy);
        assertThat(Cli.ints(line.get("prompt_ids"))).containsExactly(prompt);
        assertThat(line.get("finish_reason").asText()).isEqualTo("length");
        String decoded = ChatGLMTokenizer.load(model.resolve("tokenizer.model")).decode(greedy);
        assertThat(line.get("text").asText()).isEqualTo(decoded);
        assertThat(line.properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactly("prompt_ids", "ids", "text", "finish_reason");
    }

    @Test
    void greedyJsonReproducesTheReferenceOnTheTinyModel() {
        greedyMatchesReference(Cli.tiny());
    }

    @Test
    void greedyJsonReproducesTheReferenceOnTheTiny32kModel() {
        greedyMatchesReference(Cli.tiny32k());
    }

    @Test
    void withoutJsonTheTextIsStreamedToStdout() {
        JsonNode expected = Cli.json(Cli.tiny().resolve("expected.json"));
        int[] greedy = Arrays.copyOf(Cli.ints(expected.get("greedy_ids")), 6);

        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--temperature", "0",
                "--prompt-ids", Cli.csv(Cli.ints(expected.get("input_ids"))), "--max-new-tokens", "6");

        assertThat(run.exitCode()).as("%s", run).isZero();
        String decoded = ChatGLMTokenizer.load(Cli.tiny().resolve("tokenizer.model")).decode(greedy);
        assertThat(run.out()).isEqualTo(decoded + "\n");
        assertThat(run.err()).as("statistics on stderr").contains("tokens/s").contains("finish: length");
    }

    @Test
    void promptTextIsEncodedAfterGmaskSop() {
        JsonNode hello = Cli.json(Cli.fixtures().resolve("tokenizer/cases.json")).get("texts").get(16);
        assertThat(hello.get("text").asText()).isEqualTo("你好");
        int[] expectedPrompt = IntStream.concat(IntStream.of(ChatGLMTokenizer.GMASK, ChatGLMTokenizer.SOP),
                Arrays.stream(Cli.ints(hello.get("ids")))).toArray();

        Cli.Run byText = Cli.run("generate", "-m", Cli.tiny().toString(), "--json", "--temperature", "0",
                "--prompt", "你好", "--max-new-tokens", "4");
        Cli.Run byIds = Cli.run("generate", "-m", Cli.tiny().toString(), "--json", "--temperature", "0",
                "--prompt-ids", Cli.csv(expectedPrompt), "--max-new-tokens", "4");

        assertThat(byText.exitCode()).as("%s", byText).isZero();
        JsonNode text = Cli.json(byText.out());
        assertThat(Cli.ints(text.get("prompt_ids"))).containsExactly(expectedPrompt);
        assertThat(text.get("ids")).as("--prompt TEXT generates as the equivalent --prompt-ids").isEqualTo(Cli.json(byIds.out()).get("ids"));
    }

    @Test
    void theSameSeedReproducesASampledCompletionAndAnotherSeedDoesNot() {
        java.util.function.IntFunction<JsonNode> sample = seed -> {
            Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--json", "--prompt", "Hello", "--max-new-tokens", "8",
                    "--temperature", "1.5", "--top-p", "1", "--top-k", "0", "--seed", String.valueOf(seed));
            assertThat(run.exitCode()).as("%s", run).isZero();
            return Cli.json(run.out()).get("ids");
        };
        JsonNode first = sample.apply(1234);
        assertThat(sample.apply(1234)).as("the same seed").isEqualTo(first);
        // 8 draws from the nearly flat distribution of a random model at temperature 1.5: another seed cannot repeat them
        assertThat(sample.apply(4321)).as("another seed").isNotEqualTo(first);
        JsonNode greedy = Cli.json(Cli.run("generate", "-m", Cli.tiny().toString(), "--json", "--prompt", "Hello",
                "--max-new-tokens", "8", "--temperature", "0").out()).get("ids");
        assertThat(first).as("sampling is not greedy").isNotEqualTo(greedy);
    }
}
