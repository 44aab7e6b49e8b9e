package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A pull from the fake hub fetches only what the engine needs, and the snapshot loads and generates. */
class PullTest {
    private final FakeHub fake = new FakeHub();

    @AfterEach
    void close() {
        fake.close();
    }

    private FakeHub.Repo chatglmRepo() {
        return fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny())
                .file("modeling_chatglm.py", "# python code the engine does not need\n".getBytes(StandardCharsets.UTF_8))
                .file("README.md", "# readme\n".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void pullsConfigTokenizerAndSafetensorsOnlyAndTheSnapshotReproducesTheGreedyIds(@TempDir Path dir) throws IOException {
        chatglmRepo();
        var recorder = new Hubs.Recorder();
        Path snapshot = Hubs.hub(Hubs.options(fake, dir)).resolve(Hubs.ref(Hubs.REPO), recorder);

        assertThat(snapshot).isEqualTo(dir.resolve("hf/models--THUDM--chatglm3-6b/snapshots/" + Hubs.COMMIT));
        DownloadPlan plan = recorder.plans.getFirst();
        assertThat(plan.files()).extracting(RemoteFile::path).containsExactly("config.json", "tokenizer.model",
                "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
        long expectedBytes = 0;
        for (RemoteFile f : plan.files()) {
            expectedBytes += Files.size(Hubs.tiny().resolve(f.path()));
        }
        assertThat(plan.bytesToFetch()).isEqualTo(expectedBytes);
        assertThat(plan.destination()).isEqualTo(snapshot);
        assertThat(fake.requests).as("never the .bin weights, the Python code, the README or the fixture's expected values")
                .noneMatch(r -> r.path().contains("pytorch_model") || r.path().contains(".py") || r.path().contains("README")
                        || r.path().contains("expected"));
        assertThat(recorder.finished).hasSize(5);
        assertThat(recorder.progress).isNotEmpty();
        assertThat(recorder.progress.getLast()[1]).as("plan bytes at the end").isEqualTo(expectedBytes);
        // every file of the snapshot equals the fixture's; that it loads and reproduces the fixture's greedy ids is
        // checked end to end by the CLI's HubCommandsTest (the hub module does not depend on the engine)
        for (String file : List.of("config.json", "tokenizer.model", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            assertThat(Files.mismatch(snapshot.resolve(file), Hubs.tiny().resolve(file))).as(file).isEqualTo(-1L);
        }
    }

    @Test
    void aSecondResolveUsesTheCacheWithoutAnyRequest(@TempDir Path dir) {
        chatglmRepo();
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        Path first = hub.resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        int before = fake.requests.size();
        Path second = hub.resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        assertThat(second).isEqualTo(first);
        assertThat(fake.requests).hasSize(before);
    }

    @Test
    void pullChecksTheHubAgainButDownloadsNothingWhenComplete(@TempDir Path dir) {
        chatglmRepo();
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        hub.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        int before = fake.requests.size();
        var recorder = new Hubs.Recorder();
        hub.pull(Hubs.ref(Hubs.REPO), recorder);
        assertThat(recorder.plans.getFirst().missing()).isEmpty();
        assertThat(fake.requests.subList(before, fake.requests.size())).extracting(FakeHub.Request::path)
                .containsExactly("/api/models/THUDM/chatglm3-6b/revision/main");
    }

    @Test
    void aMirrorWithoutSizesInModelInfoIsListedThroughTheTreeApi(@TempDir Path dir) {
        chatglmRepo();
        fake.infoWithoutBlobs = true;
        Path snapshot = Hubs.hub(Hubs.options(fake, dir)).resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        assertThat(fake.requests).anyMatch(r -> r.path().equals("/api/models/THUDM/chatglm3-6b/tree/" + Hubs.COMMIT));
        assertThat(CheckpointFiles.complete(snapshot, null)).contains(snapshot);
    }

    @Test
    void aGgufFileOfARepository(@TempDir Path dir) throws IOException {
        byte[] gguf = Files.readAllBytes(Hubs.fixtures().resolve("quant/llama-quantize/pure-Q8_0.gguf"));
        fake.addRepo(new FakeHub.Repo("someone/chatglm3-6b-GGUF", Hubs.COMMIT)
                .file("chatglm3-6b-q8_0.gguf", gguf).file("chatglm3-6b-q4_0.gguf", new byte[]{1, 2, 3})
                .file("README.md", new byte[]{'#'}));
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir));
        Path file = hub.resolve(Hubs.ref("someone/chatglm3-6b-GGUF/chatglm3-6b-q8_0.gguf"), DownloadListener.NONE);
        assertThat(file).hasFileName("chatglm3-6b-q8_0.gguf").hasBinaryContent(gguf);
        assertThat(fake.requests).noneMatch(r -> r.path().contains("q4_0") || r.path().contains("README"));
    }

    @Test
    void aRevisionByNameIsRecordedInRefs(@TempDir Path dir) throws IOException {
        FakeHub.Repo repo = chatglmRepo();
        repo.refs.put("v1.0", Hubs.COMMIT);
        Path snapshot = Hubs.hub(Hubs.options(fake, dir)).resolve(Hubs.ref(Hubs.REPO + "@v1.0"), DownloadListener.NONE);
        Path repoDir = dir.resolve("hf/models--THUDM--chatglm3-6b");
        assertThat(Files.readString(repoDir.resolve("refs/v1.0"))).isEqualTo(Hubs.COMMIT);
        assertThat(repoDir.resolve("refs/main")).doesNotExist();
        assertThat(snapshot).isEqualTo(repoDir.resolve("snapshots/" + Hubs.COMMIT));
    }


    static List<String> paths(List<RemoteFile> files) {
        return files.stream().map(RemoteFile::path).toList();
    }
}
