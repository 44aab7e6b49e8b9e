package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.checkpoint.GgufModelWriter;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.gguf.RowEncoder;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** The tiny fixture models converted to GGUF once per test JVM (in a temporary directory removed at exit). */
final class GgufFixtures {
    private static final Map<String, Path> converted = new HashMap<>();
    private static Path dir;

    private GgufFixtures() {
    }

    /** {@code tiny-chatglm3} or {@code tiny-chatglm3-32k} as a GGUF file of the given matrix type. */
    static synchronized Path model(String fixture, TensorType type) {
        return converted.computeIfAbsent(fixture + "-" + type, key -> {
            try {
                Path out = dir().resolve(key + ".gguf");
                GgufModelWriter.convert(Fixtures.root().resolve(fixture), out, type, RowEncoder.floats(), LoadProgress.NONE, false);
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static synchronized Path dir() throws IOException {
        if (dir == null) {
            dir = Files.createTempDirectory("gguf-fixtures");
            Path created = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (Stream<Path> files = Files.walk(created)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // best effort: it is a temporary directory
                }
            }));
        }
        return dir;
    }
}
