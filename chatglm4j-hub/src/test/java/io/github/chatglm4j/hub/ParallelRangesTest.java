package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** With several connections a large file comes as parallel ranges; a dropped range resumes on its own. */
class ParallelRangesTest {
    private static final String SHARD = "model-00001-of-00002.safetensors";
    private final FakeHub fake = new FakeHub();
    private byte[] shard;
    private String cdnPath;

    @BeforeEach
    void repo() {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        shard = fake.content(Hubs.REPO, SHARD);
        cdnPath = "/cdn/" + FakeHub.sha256(shard);
    }

    @AfterEach
    void close() {
        fake.close();
    }

    private ModelHub hub(Path dir) {
        ModelHub hub = Hubs.hub(Hubs.options(fake, dir).withConnections(3));
        hub.parallelMinBytes = 1 << 20;
        return hub;
    }

    private List<String> ranges() {
        return fake.requests.stream().filter(r -> r.path().equals(cdnPath)).map(FakeHub.Request::range).toList();
    }

    @Test
    void aLargeFileComesAsThreeRangesAndIsVerifiedWhole(@TempDir Path dir) {
        Path snapshot = hub(dir).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        long step = (shard.length + 2) / 3;
        assertThat(ranges()).containsExactlyInAnyOrder("bytes=0-" + (step - 1), "bytes=" + step + "-" + (2 * step - 1),
                "bytes=" + 2 * step + "-" + (shard.length - 1));
        assertThat(snapshot.resolve(SHARD)).hasBinaryContent(shard);
    }

    @Test
    void aDroppedRangeResumesFromWhereThatRangeGot(@TempDir Path dir) {
        long step = (shard.length + 2) / 3;
        fake.fault(r -> r.path().equals(cdnPath) && ("bytes=" + step + "-" + (2 * step - 1)).equals(r.range()), 1, new FakeHub.Drop(100_000));
        Path snapshot = hub(dir).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        assertThat(ranges()).contains("bytes=" + (step + 100_000) + "-" + (2 * step - 1)).hasSize(4);
        assertThat(snapshot.resolve(SHARD)).hasBinaryContent(shard);
    }

    @Test
    void aServerWithoutRangesGetsOneStream(@TempDir Path dir) {
        fake.fault(r -> r.path().equals(cdnPath), 3, new FakeHub.IgnoreRange());
        var recorder = new Hubs.Recorder();
        Path snapshot = hub(dir).pull(Hubs.ref(Hubs.REPO), recorder);
        assertThat(recorder.notes).anyMatch(n -> n.contains("does not serve ranges; downloading " + SHARD + " in one stream"));
        assertThat(snapshot.resolve(SHARD)).hasBinaryContent(shard);
    }
}
