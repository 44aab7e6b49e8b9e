package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BenchCommandTest {

    @Test
    void jsonGivesOneObjectPerTestInOrder() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "8,4", "-n", "3", "-r", "2", "-t", "1", "--json");

        assertThat(run.exitCode()).as("%s", run).isZero();
        List<JsonNode> lines = run.outLines().stream().map(Cli::json).toList();
        assertThat(lines).extracting(l -> l.get("test").asText()).containsExactly("pp8", "pp4", "tg3");
        assertThat(lines).extracting(l -> l.get("n_prompt").asInt()).containsExactly(8, 4, 0);
        assertThat(lines).extracting(l -> l.get("n_gen").asInt()).containsExactly(0, 0, 3);
        assertThat(lines).extracting(l -> l.get("tokens").asLong()).containsExactly(8L, 4L, 3L);
        for (JsonNode l : lines) {
            assertThat(l.get("threads").asInt()).isEqualTo(1);
            assertThat(l.get("type").asText()).as("the tiny model's weights are float16").isEqualTo("F16");
            assertThat(l.get("repetitions").asInt()).isEqualTo(2);
            assertThat(l.get("tokens_per_second").asDouble()).isPositive();
            assertThat(l.get("stddev").asDouble()).isNotNegative();
            assertThat(l.get("load_seconds").asDouble()).isNotNegative();
            assertThat(l.get("peak_rss_bytes").asLong()).isPositive();
        }
        assertThat(run.err()).as("the human summary goes to stderr").contains("load: ").contains("peak RSS");
    }

    @Test
    void theTableHasARowPerTest() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "4", "-n", "2", "-r", "1", "--no-warmup");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).anyMatch(l -> l.matches("\\| pp4 +\\| +1 \\| +[0-9.]+ ± 0\\.00 \\| +\\d+ \\| F16 +\\| +[0-9.]+ \\|"))
                .anyMatch(l -> l.matches("\\| tg2 +\\| +1 \\| +[0-9.]+ ± 0\\.00 \\| +\\d+ \\| F16 +\\| +[0-9.]+ \\|"))
                .anyMatch(l -> l.startsWith("load: "));
    }

    @Test
    void streamsRunGenerationTestsThroughTheScheduler() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "0", "-n", "5", "-s", "1,3", "-r", "1", "--json");

        assertThat(run.exitCode()).as("%s", run).isZero();
        List<JsonNode> lines = run.outLines().stream().map(Cli::json).toList();
        assertThat(lines).extracting(l -> l.get("test").asText()).containsExactly("tg5", "tg5");
        assertThat(lines).extracting(l -> l.get("streams").asInt()).containsExactly(1, 3);
        assertThat(lines).extracting(l -> l.get("tokens").asLong()).as("every stream generated all 5 tokens (no early stop)")
                .containsExactly(5L, 15L);
        assertThat(lines).allSatisfy(l -> assertThat(l.get("tokens_per_second").asDouble()).isPositive());
    }

    @Test
    void zeroStreamsIsAUsageError() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-n", "2", "-s", "0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--streams");
    }

    @Test
    void reportsTheKvCacheTypeAndItsSizeAtTheContext() {
        // tiny-chatglm3: 2 layers x (K, V) x 2 groups x head dim 16 = 128 values per token; q8_0 stores 32 int8 + a
        // float scale per 32 values, so 128 x 36 / 32 = 144 bytes per token, 147,456 bytes at 1024 tokens
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "4", "-n", "0", "--ctx", "1024", "--kv-type", "q8_0", "--json");

        assertThat(run.exitCode()).as("%s", run).isZero();
        JsonNode line = Cli.json(run.outLines().getFirst());
        assertThat(line.get("kv_type").asText()).isEqualTo("q8_0");
        assertThat(line.get("kv_cache_bytes").asLong()).isEqualTo(147_456);
        assertThat(run.err()).contains("KV cache q8_0 0.1 MiB at 1024 tokens");
    }

    @Test
    void theKvCacheIsF16UnlessChosen() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "4", "-n", "0", "--ctx", "1024", "--json");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(Cli.json(run.outLines().getFirst()).get("kv_cache_bytes").asLong()).as("128 halves per token").isEqualTo(256L * 1024);
    }

    @Test
    void unknownKvTypeIsAUsageError() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "--kv-type", "q4");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errLines()).first().asString()
                .startsWith("chatglm: --kv-type: unknown KV cache type 'q4' (expected f32, f16 or q8_0)");
    }

    @Test
    void nothingToMeasureIsAUsageError() {
        Cli.Run run = Cli.run("bench", "-m", Cli.tiny().toString(), "-p", "0", "-n", "0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errLines()).singleElement().asString().startsWith("chatglm: nothing to measure");
    }
}
