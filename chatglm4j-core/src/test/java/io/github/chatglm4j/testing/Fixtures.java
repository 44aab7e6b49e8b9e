package io.github.chatglm4j.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code ../shared/fixtures} (system property {@code chatglm.fixtures}, set by the build). */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path root() {
        String p = System.getProperty("chatglm.fixtures");
        Path root = p != null ? Path.of(p) : Path.of("../../shared/fixtures");
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("fixtures not found at " + root.toAbsolutePath()
                    + " (clone the project next to shared/ or set -Dchatglm.fixtures)");
        }
        return root;
    }

    public static Path tinyModel() {
        return root().resolve("tiny-chatglm3");
    }

    public static Path tinyModel32k() {
        return root().resolve("tiny-chatglm3-32k");
    }
}
