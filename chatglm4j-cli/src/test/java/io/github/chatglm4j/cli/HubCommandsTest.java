package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** -m with a repo id, pull, models and rm against a local fake hub, configured through the environment. */
class HubCommandsTest {
    private static final String COMMIT = "5777b27c1c15d45e5e32daa07bc2d4e6c8f6a0a1";
    private final FakeHub fake = new FakeHub();

    @AfterEach
    void close() {
        fake.close();
    }

    private Map<String, String> env(Path dir) {
        return Map.of("HF_ENDPOINT", fake.endpoint().toString(), "HF_HUB_CACHE", dir.resolve("hf").toString(),
                "MODELSCOPE_DOMAIN", fake.endpoint().toString(), "MODELSCOPE_CACHE", dir.resolve("ms").toString());
    }

    @Test
    void aRepoIdDownloadsOnceThenRunsFromTheCacheAndReproducesTheGreedyIds(@TempDir Path dir) {
        fake.addRepo("THUDM/chatglm3-6b", COMMIT, Cli.tiny());
        var expected = Cli.json(Cli.tiny().resolve("expected.json"));
        int[] prompt = Cli.ints(expected.path("input_ids"));
        int[] greedy = Cli.ints(expected.path("greedy_ids"));
        String[] args = {"generate", "-m", "THUDM/chatglm3-6b", "--prompt-ids", Cli.csv(prompt), "--max-new-tokens",
                String.valueOf(greedy.length), "--temperature", "0", "--kv-type", "f32", "--json", "-t", "2"};

        Cli.Run first = Cli.withEnv(env(dir), args);
        assertThat(first.exitCode()).as("%s", first).isZero();
        assertThat(Cli.ints(Cli.json(first.out()).path("ids"))).containsExactly(greedy);
        Path snapshot = dir.resolve("hf/models--THUDM--chatglm3-6b/snapshots/" + COMMIT);
        assertThat(first.err()).contains("chatglm: downloading THUDM/chatglm3-6b (commit 5777b27c1c15): 5 of 5 files, 17.0 MiB into " + snapshot)
                .contains("model-00001-of-00002.safetensors: 100% (8.0 MiB of 8.0 MiB), total")
                .doesNotContain("pytorch_model.bin");

        int requests = fake.requests.size();
        Cli.Run second = Cli.withEnv(env(dir), args);
        assertThat(second.exitCode()).as("%s", second).isZero();
        assertThat(second.err()).doesNotContain("downloading");
        assertThat(fake.requests).as("no traffic for a cached model").hasSize(requests);
    }

    @Test
    void pullPrintsThePathAndQuietShowsNoProgress(@TempDir Path dir) {
        fake.addRepo("THUDM/chatglm3-6b", COMMIT, Cli.tiny());
        Cli.Run run = Cli.withEnv(env(dir), "pull", "--quiet", "THUDM/chatglm3-6b");
        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).containsExactly(dir.resolve("hf/models--THUDM--chatglm3-6b/snapshots/" + COMMIT).toString());
        assertThat(run.err()).isEmpty();
    }

    @Test
    void modelsListsAndRmRemoves(@TempDir Path dir) {
        fake.addRepo("THUDM/chatglm3-6b", COMMIT, Cli.tiny());
        fake.addRepo("ZhipuAI/chatglm3-6b", "master", Cli.tiny());
        assertThat(Cli.withEnv(env(dir), "pull", "--quiet", "THUDM/chatglm3-6b").exitCode()).isZero();
        assertThat(Cli.withEnv(env(dir), "pull", "--quiet", "--source", "modelscope", "ZhipuAI/chatglm3-6b").exitCode()).isZero();

        Cli.Run models = Cli.withEnv(env(dir), "models");
        assertThat(models.exitCode()).as("%s", models).isZero();
        assertThat(models.outLines()).hasSize(3);
        assertThat(models.outLines().get(0)).matches("REPO +REVISION +SIZE +PATH");
        assertThat(models.outLines().get(1)).matches("THUDM/chatglm3-6b +main +17\\.0 MiB +" + dir.resolve("hf").toString().replace("/", "\\/") + ".*" + COMMIT);
        assertThat(models.outLines().get(2)).startsWith("modelscope:ZhipuAI/chatglm3-6b").endsWith(dir.resolve("ms/models/ZhipuAI/chatglm3-6b").toString());

        Cli.Run rm = Cli.withEnv(env(dir), "rm", "THUDM/chatglm3-6b", "modelscope:ZhipuAI/chatglm3-6b");
        assertThat(rm.exitCode()).as("%s", rm).isZero();
        assertThat(rm.outLines()).hasSize(2).allMatch(l -> l.startsWith("removed "));
        assertThat(dir.resolve("hf/models--THUDM--chatglm3-6b")).doesNotExist();
        assertThat(Files.exists(dir.resolve("ms/models/ZhipuAI/chatglm3-6b"))).isFalse();

        Cli.Run again = Cli.withEnv(env(dir), "rm", "THUDM/chatglm3-6b");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.errLines()).containsExactly("chatglm: THUDM/chatglm3-6b is not in the cache (see 'chatglm models')");
        assertThat(Cli.withEnv(env(dir), "models").errLines()).singleElement().asString().startsWith("chatglm: no models cached in ");
    }

    @Test
    void errorsAreOneLine(@TempDir Path dir) {
        fake.addRepo("THUDM/chatglm3-6b", COMMIT, Cli.tiny());
        Map<String, String> offline = new java.util.HashMap<>(env(dir));
        offline.put("HF_HUB_OFFLINE", "1");
        Cli.Run run = Cli.withEnv(offline, "generate", "-m", "THUDM/chatglm3-6b", "--prompt", "hi");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.errLines()).singleElement().asString()
                .startsWith("chatglm: THUDM/chatglm3-6b is not (completely) in the cache").contains("HF_HUB_OFFLINE is set");
        assertThat(fake.requests).isEmpty();

        Cli.Run missing = Cli.withEnv(env(dir), "chat", "-m", "THUDM/chatglm3-7b", "--quiet");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.errLines()).containsExactly("chatglm: THUDM/chatglm3-7b: no such model on " + fake.endpoint()
                + " (HTTP 401): check the name; a private repository needs HF_TOKEN");

        Cli.Run badSource = Cli.withEnv(env(dir), "pull", "--source", "github", "THUDM/chatglm3-6b");
        assertThat(badSource.exitCode()).isEqualTo(2);
        assertThat(badSource.errLines()).singleElement().asString().contains("unknown source 'github'");

        Cli.Run noModel = Cli.withEnv(env(dir), "generate", "--prompt", "hi");
        assertThat(noModel.exitCode()).isEqualTo(2);
        assertThat(noModel.errLines()).singleElement().asString().contains("Missing required option: '--model=MODEL'");
    }

    @Test
    void tokenizeFetchesOnlyTheTokenizer(@TempDir Path dir) {
        fake.addRepo("THUDM/chatglm3-6b", COMMIT, Cli.tiny());
        Cli.Run run = Cli.withEnvAndStdin(env(dir), "\"你好\"\n", "tokenize", "-m", "THUDM/chatglm3-6b");
        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).as("the ids in fixtures/tokenizer/cases.json").containsExactly("[36474, 54591]");
        assertThat(fake.bodyRequests("tokenizer.model")).hasSize(1);
        assertThat(fake.requests).noneMatch(r -> r.path().contains("safetensors") || r.path().contains("config.json"));
    }

    @Test
    void chatAndServeSayWhichModelTheyUseByDefault() {
        for (String command : new String[]{"chat", "serve"}) {
            assertThat(Cli.run(command, "--help").out().replaceAll("\\s+", " ")).contains("chat and serve default to THUDM/chatglm3-6b");
        }
        assertThat(Cli.run("--help").out()).contains("pull").contains("models").contains("rm");
    }
}
