package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Not a test: download throughput from the local fake hub, one stream against several ranged connections, for one
 * large random file (LFS, redirected to the fake CDN, sha256-verified). Alternates the two settings.
 * Run: {@code java -cp ... io.github.chatglm4j.hub.DownloadBench SIZE_MIB CONNECTIONS ROUNDS DIR}.
 */
public final class DownloadBench {
    private DownloadBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = Integer.parseInt(args[0]);
        int connections = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        byte[] content = new byte[mib << 20];
        new Random(42).nextBytes(content);
        try (FakeHub fake = new FakeHub()) {
            fake.addRepo(new FakeHub.Repo("bench/big", Hubs.COMMIT).file("big.gguf", content));
            for (int round = 0; round < rounds; round++) {
                for (int c : new int[]{1, connections}) {
                    Path cache = Files.createTempDirectory(dir, "bench");
                    HubOptions options = HubOptions.fromEnvironment(Map.of(), cache).withHfEndpoint(fake.endpoint())
                            .withHfCache(cache).withConnections(c).withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(60));
                    long t0 = System.nanoTime();
                    Path file = new ModelHub(options, RetryPolicy.defaults(), d -> Long.MAX_VALUE)
                            .pull(ModelRef.parse("bench/big/big.gguf", Source.HUGGING_FACE), DownloadListener.NONE);
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.println(String.format(Locale.ROOT, "round %d connections %d: %d MiB in %.2f s = %.0f MiB/s",
                            round, c, mib, s, mib / s));
                    if (Files.size(file) != content.length) {
                        throw new IllegalStateException("wrong size");
                    }
                    CacheTrees.delete(cache);
                }
            }
        }
    }
}
