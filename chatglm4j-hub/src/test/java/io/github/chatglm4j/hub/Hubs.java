package io.github.chatglm4j.hub;

import io.github.chatglm4j.hub.testing.FakeHub;
import io.github.chatglm4j.testing.Fixtures;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** Test wiring: options pointing at a fake hub and a temporary cache, and a listener that records. */
final class Hubs {
    static final String COMMIT = "5777b27c1c15d45e5e32daa07bc2d4e6c8f6a0a1";
    static final String REPO = "THUDM/chatglm3-6b";

    private Hubs() {
    }

    static Path fixtures() {
        return Fixtures.root();
    }

    static Path tiny() {
        return Fixtures.tinyModel();
    }

    /** Options for {@code fake} with the caches under {@code dir}; an empty environment (no token, online). */
    static HubOptions options(FakeHub fake, Path dir) {
        return HubOptions.fromEnvironment(Map.of(), dir.resolve("home"))
                .withHfEndpoint(fake.endpoint())
                .withHfCache(dir.resolve("hf"))
                .withModelScope(fake.endpoint(), dir.resolve("ms"))
                .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    /** A hub whose retries record their waits instead of sleeping, with plenty of disk. */
    static ModelHub hub(HubOptions options, List<Duration> waits) {
        return new ModelHub(options, new RetryPolicy(4, Duration.ofSeconds(1), Duration.ofSeconds(30), waits::add), dir -> Long.MAX_VALUE);
    }

    static ModelHub hub(HubOptions options) {
        return hub(options, new CopyOnWriteArrayList<>());
    }

    static ModelRef ref(String text) {
        return ModelRef.parse(text, Source.HUGGING_FACE);
    }

    /** Records what a pull announced. */
    static final class Recorder implements DownloadListener {
        final List<DownloadPlan> plans = new CopyOnWriteArrayList<>();
        final List<String> notes = new CopyOnWriteArrayList<>();
        final List<String> finished = new CopyOnWriteArrayList<>();
        final List<long[]> progress = new CopyOnWriteArrayList<>();
        private final Consumer<String> onNote;

        Recorder() {
            this(n -> { });
        }

        Recorder(Consumer<String> onNote) {
            this.onNote = onNote;
        }

        @Override
        public void planned(DownloadPlan plan) {
            plans.add(plan);
        }

        @Override
        public void progress(RemoteFile file, long fileBytes, long planBytes) {
            progress.add(new long[]{fileBytes, planBytes});
        }

        @Override
        public void finished(RemoteFile file) {
            finished.add(file.path());
        }

        @Override
        public void note(String message) {
            notes.add(message);
            onNote.accept(message);
        }
    }
}
