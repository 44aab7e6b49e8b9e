package io.github.chatglm4j.hub;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * {@code main(endpoint, hfCache, ref)}: a pull in a separate JVM for {@link ConcurrentPullTest}, printing every note
 * and then {@code done PATH} on stdout.
 */
public final class PullInAnotherProcess {
    private PullInAnotherProcess() {
    }

    public static void main(String[] args) {
        HubOptions options = HubOptions.fromEnvironment(Map.of(), Path.of(args[1]))
                .withHfEndpoint(URI.create(args[0])).withHfCache(Path.of(args[1]))
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60));
        ModelHub hub = new ModelHub(options, RetryPolicy.defaults(), dir -> Long.MAX_VALUE);
        Path path = hub.pull(ModelRef.parse(args[2], Source.HUGGING_FACE), new DownloadListener() {
            @Override
            public void note(String message) {
                System.out.println("note " + message);
                System.out.flush();
            }
        });
        System.out.println("done " + path);
        System.out.flush();
    }
}
