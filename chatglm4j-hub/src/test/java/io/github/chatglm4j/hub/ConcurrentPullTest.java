package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two pulls of the same repository at once, in one process and in two: the second waits for the lock of the file
 * the first is fetching (the first is held mid-file by a gate until the second says it waits), then finds it done.
 * Every file is fetched exactly once and the snapshot is complete.
 */
class ConcurrentPullTest {
    private static final String SHARD = "model-00001-of-00002.safetensors";
    private final FakeHub fake = new FakeHub();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void gateTheFirstShard() {
        fake.addRepo(Hubs.REPO, Hubs.COMMIT, Hubs.tiny());
        String sha = FakeHub.sha256(fake.content(Hubs.REPO, SHARD));
        fake.fault(FakeHub.fileBody(sha), 1, new FakeHub.Gate(1_000_000, reached, release));
    }

    @AfterEach
    void close() {
        release.countDown();
        threads.shutdownNow();
        fake.close();
    }

    private void assertEveryFileFetchedOnce(Path snapshot) {
        for (String f : List.of("config.json", "tokenizer.model", "model.safetensors.index.json", SHARD, "model-00002-of-00002.safetensors")) {
            assertThat(fake.bodyRequests(f)).as(f).hasSize(1);
            assertThat(snapshot.resolve(f)).hasSameBinaryContentAs(Hubs.tiny().resolve(f));
        }
    }

    @Test
    void twoThreadsPullingTheSameRepoShareTheWork(@TempDir Path dir) throws Exception {
        HubOptions options = Hubs.options(fake, dir);
        Future<Path> first = threads.submit(() -> Hubs.hub(options).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE));
        reached.await();
        var secondWaits = new CountDownLatch(1);
        Future<Path> second = threads.submit(() -> Hubs.hub(options).pull(Hubs.ref(Hubs.REPO),
                new Hubs.Recorder(note -> {
                    if (note.startsWith("waiting for another download")) {
                        secondWaits.countDown();
                    }
                })));
        secondWaits.await();
        release.countDown();
        assertThat(second.get()).isEqualTo(first.get());
        assertEveryFileFetchedOnce(first.get());
    }

    @Test
    void twoProcessesPullingTheSameRepoShareTheWork(@TempDir Path dir) throws Exception {
        HubOptions options = Hubs.options(fake, dir);
        Future<Path> first = threads.submit(() -> Hubs.hub(options).pull(Hubs.ref(Hubs.REPO), DownloadListener.NONE));
        reached.await();

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process other = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                PullInAnotherProcess.class.getName(), fake.endpoint().toString(), options.hfCache().toString(), Hubs.REPO)
                .redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        threads.submit(() -> {
            try (var in = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            }
            lines.add("<eof>");
            return null;
        });
        try {
            String line;
            do {
                line = lines.poll(120, TimeUnit.SECONDS);   // a safety net against a hang, not a timing assertion
                assertThat(line).as("the other process's output").isNotNull().isNotEqualTo("<eof>");
            } while (!line.startsWith("note waiting for another process downloading the same file"));
            release.countDown();
            Path snapshot = first.get();
            do {
                line = lines.poll(120, TimeUnit.SECONDS);
                assertThat(line).isNotNull().isNotEqualTo("<eof>");
            } while (!line.startsWith("done "));
            assertThat(line).isEqualTo("done " + snapshot);
            assertThat(other.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(other.exitValue()).isZero();
            assertEveryFileFetchedOnce(snapshot);
        } finally {
            other.destroyForcibly();
        }
    }
}
