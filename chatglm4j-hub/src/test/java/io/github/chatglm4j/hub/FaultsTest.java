package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fake hub misbehaves; downloads resume, restart, retry or fail with one clear line, never leaving junk visible. */
class FaultsTest {
    private static final String SHARD = "model-00001-of-00002.safetensors";
    private final FakeHub fake = new FakeHub();
    private byte[] shard;
    private String shardSha;

    @BeforeEach
    void repo() {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        shard = fake.content(Hubs.REPO, SHARD);
        shardSha = FakeHub.sha256(shard);
    }

    @AfterEach
    void close() {
        fake.close();
    }

    private Path repoDir(Path dir) {
        return dir.resolve("hf/models--THUDM--chatglm3-6b");
    }

    private List<FakeHub.Request> shardBodies() {
        return fake.requests.stream().filter(r -> r.path().equals("/cdn/" + shardSha)).toList();
    }

    private void assertShardComplete(Path dir) {
        Path link = repoDir(dir).resolve("snapshots/" + Hubs.COMMIT + "/" + SHARD);
        assertThat(link).isSymbolicLink().hasBinaryContent(shard);
        assertThat(repoDir(dir).resolve("blobs/" + shardSha + ".incomplete")).doesNotExist();
    }

    @Test
    void aConnectionDroppedMidFileResumesWhereItStopped(@TempDir Path dir) {
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.Drop(1_000_000));
        var recorder = new Hubs.Recorder();
        Hubs.hub(Hubs.options(fake, dir)).pull(Hubs.ref(Hubs.REPO), recorder);

        assertThat(shardBodies()).extracting(FakeHub.Request::range).containsExactly(null, "bytes=1000000-");
        assertShardComplete(dir);
        assertThat(recorder.notes).anyMatch(n -> n.contains(SHARD) && n.contains("retrying from"));
    }

    @Test
    void aPartialFileFromAnEarlierRunIsResumedNotRestarted(@TempDir Path dir) {
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.Drop(3_000_000));
        HubOptions options = Hubs.options(fake, dir);
        var oneTry = new ModelHub(options, new RetryPolicy(1, Duration.ofSeconds(1), Duration.ofSeconds(1), d -> { }), d -> Long.MAX_VALUE);
        assertThatThrownBy(() -> oneTry.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.NETWORK));
        Path incomplete = repoDir(dir).resolve("blobs/" + shardSha + ".incomplete");
        assertThat(incomplete).hasSize(3_000_000);
        assertThat(repoDir(dir).resolve("blobs/" + shardSha)).as("nothing under the final name").doesNotExist();
        assertThat(repoDir(dir).resolve("snapshots/" + Hubs.COMMIT + "/" + SHARD)).doesNotExist();

        var recorder = new Hubs.Recorder();
        Hubs.hub(options).pull(Hubs.ref(Hubs.REPO), recorder);
        assertThat(shardBodies().getLast().range()).isEqualTo("bytes=3000000-");
        assertThat(recorder.plans.getFirst().bytesToFetch()).as("the partial bytes are not fetched again")
                .isEqualTo(recorder.plans.getFirst().missingBytes() - 3_000_000);
        assertThat(recorder.notes).anyMatch(n -> n.startsWith("resuming " + SHARD + " at 2.9 MiB"));
        assertShardComplete(dir);
    }

    @Test
    void aServerThatIgnoresRangeMakesTheFileRestartCleanly(@TempDir Path dir) {
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.Drop(2_000_000));
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.IgnoreRange());
        var recorder = new Hubs.Recorder();
        Hubs.hub(Hubs.options(fake, dir)).pull(Hubs.ref(Hubs.REPO), recorder);

        assertThat(shardBodies()).extracting(FakeHub.Request::range).containsExactly(null, "bytes=2000000-");
        assertThat(recorder.notes).anyMatch(n -> n.contains("ignored the request to resume " + SHARD));
        assertShardComplete(dir);
    }

    @Test
    void corruptedBytesAreAChecksumErrorAndNothingIsLeftVisible(@TempDir Path dir) throws IOException {
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.Corrupt());
        assertThatThrownBy(() -> Hubs.hub(Hubs.options(fake, dir)).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.CHECKSUM);
                    assertThat(e.getMessage()).contains(SHARD).contains("sha256").contains("instead of " + shardSha)
                            .contains("run the command again").doesNotContain("\n");
                });
        try (var blobs = Files.list(repoDir(dir).resolve("blobs"))) {
            assertThat(blobs.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(shardSha));
        }
        assertThat(repoDir(dir).resolve("snapshots/" + Hubs.COMMIT + "/" + SHARD)).doesNotExist();
        assertThat(repoDir(dir).resolve("refs/main")).as("an incomplete snapshot is not recorded").doesNotExist();
    }

    @Test
    void tooManyRequestsWaitsAsLongAsRetryAfterSays(@TempDir Path dir) {
        fake.fault(r -> r.path().contains("/revision/"), 1, new FakeHub.Status(429, Map.of("Retry-After", "7")));
        fake.fault(FakeHub.fileBody(shardSha), 2, new FakeHub.Status(503, Map.of()));
        List<Duration> waits = new CopyOnWriteArrayList<>();
        Hubs.hub(Hubs.options(fake, dir), waits).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE);
        assertThat(waits).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertShardComplete(dir);
    }

    @Test
    void aStalledTransferTimesOutAndResumes(@TempDir Path dir) {
        var reached = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        fake.fault(FakeHub.fileBody(shardSha), 1, new FakeHub.Gate(500_000, reached, release));
        HubOptions options = Hubs.options(fake, dir).withTimeouts(Duration.ofSeconds(10), Duration.ofMillis(300));
        var recorder = new Hubs.Recorder();
        try {
            Hubs.hub(options).pull(Hubs.ref(Hubs.REPO), recorder);
        } finally {
            release.countDown();
        }
        assertThat(reached.getCount()).isZero();
        assertThat(recorder.notes).anyMatch(n -> n.contains(SHARD) && n.contains("no data for 0.3 s"));
        assertThat(shardBodies()).extracting(FakeHub.Request::range).containsExactly(null, "bytes=500000-");
        assertShardComplete(dir);
    }

    @Test
    void theTokenGoesToTheHubButNotToTheCdn(@TempDir Path dir) {
        fake.content(Hubs.REPO, "config.json");
        FakeHub.Repo gated = fake.addRepo("meta/gated", Hubs.COMMIT, Hubs.tiny());
        gated.token = "hf_secret";
        gated.gated = true;
        Hubs.hub(Hubs.options(fake, dir).withHfToken("hf_secret")).pull(Hubs.ref("meta/gated"), DownloadListener.NONE);
        assertThat(fake.requests).filteredOn(r -> r.server().equals("hub")).allMatch(r -> "Bearer hf_secret".equals(r.authorization()));
        assertThat(fake.requests).filteredOn(r -> r.server().equals("cdn")).isNotEmpty().allMatch(r -> r.authorization() == null);
    }

    @Test
    void errorsSayWhatToDo(@TempDir Path dir) {
        FakeHub.Repo gated = fake.addRepo("meta/gated", Hubs.COMMIT, Hubs.tiny());
        gated.token = "hf_right";
        gated.gated = true;
        FakeHub.Repo secret = fake.addRepo("me/private", Hubs.COMMIT, Hubs.tiny());
        secret.token = "hf_mine";
        HubOptions options = Hubs.options(fake, dir);

        assertError(options, "THUDM/chatglm3-7b", HubException.Kind.REPO_NOT_FOUND,
                "THUDM/chatglm3-7b: no such model on " + fake.endpoint() + " (HTTP 401): check the name; a private repository needs HF_TOKEN");
        assertError(options, "me/private", HubException.Kind.REPO_NOT_FOUND, "a private repository needs HF_TOKEN");
        assertError(options, "meta/gated", HubException.Kind.UNAUTHORIZED,
                "meta/gated is gated (HTTP 401): accept its terms on " + fake.endpoint() + "/meta/gated, then set HF_TOKEN");
        assertError(options.withHfToken("hf_wrong"), "meta/gated", HubException.Kind.UNAUTHORIZED,
                "meta/gated is gated and your HF_TOKEN has no access (HTTP 403)");
        assertError(options, Hubs.REPO + "@v9", HubException.Kind.REVISION_NOT_FOUND,
                "THUDM/chatglm3-6b has no revision 'v9' on " + fake.endpoint());
        assertError(options, Hubs.REPO + "/nothing.gguf", HubException.Kind.FILE_NOT_FOUND,
                "THUDM/chatglm3-6b@main has no file 'nothing.gguf'");
    }

    @Test
    void noNetworkSuggestsAMirrorModelScopeOrOfflineMode(@TempDir Path dir) throws IOException {
        int closedPort;
        try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        HubOptions options = Hubs.options(fake, dir).withHfEndpoint(URI.create("http://127.0.0.1:" + closedPort));
        List<Duration> waits = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> Hubs.hub(options, waits).resolve(Hubs.ref(Hubs.REPO), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.NETWORK);
                    assertThat(e.getMessage()).startsWith("THUDM/chatglm3-6b: cannot connect to 127.0.0.1")
                            .contains("HF_ENDPOINT=https://hf-mirror.com").contains("--source modelscope").contains("HF_HUB_OFFLINE=1");
                });
        assertThat(waits).as("retried with backoff first").containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
    }

    @Test
    void notEnoughDiskSpaceStopsBeforeTheFirstByte(@TempDir Path dir) {
        var hub = new ModelHub(Hubs.options(fake, dir), RetryPolicy.defaults(), d -> 5_000_000);
        assertThatThrownBy(() -> hub.pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).isEqualTo(HubException.Kind.DISK_FULL);
                    assertThat(e.getMessage()).contains("needs 0.02 GB").contains("only 0.01 GB free").contains("HF_HUB_CACHE");
                });
        assertThat(fake.requests).noneMatch(FakeHub.Request::isFileBody);
    }

    @Test
    void aListedPathThatClimbsOutOfTheCacheIsRefused(@TempDir Path dir) {
        fake.addRepo(new FakeHub.Repo("evil/repo", Hubs.COMMIT).file("../../../../escape.gguf", new byte[]{1}));
        assertError(Hubs.options(fake, dir), "evil/repo", HubException.Kind.PROTOCOL,
                "evil/repo: the hub listed a file this client refuses: unsafe file path '../../../../escape.gguf'");
        assertThat(dir.resolve("escape.gguf")).doesNotExist();
    }

    private static void assertError(HubOptions options, String ref, HubException.Kind kind, String message) {
        assertThatThrownBy(() -> Hubs.hub(options).pull(Hubs.ref(ref), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> {
                    assertThat(e.kind()).as(ref).isEqualTo(kind);
                    assertThat(e.getMessage()).as(ref).contains(message).doesNotContain("\n");
                });
    }
}
