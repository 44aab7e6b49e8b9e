package io.github.chatglm4j.agent.testing;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxCheck;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.fail;

/**
 * The sandbox for tests. It must work where the tests run (scripts/install-test-deps.sh installs bubblewrap and Debian's
 * Python packages): if it does not, the test fails with every finding of the check, which says what to install.
 */
public final class Sandboxes {
    private Sandboxes() {
    }

    public static Sandbox open() {
        return open(SandboxConfig.DEFAULTS);
    }

    public static Sandbox open(SandboxConfig config) {
        try {
            return Sandbox.open(config);
        } catch (SandboxUnavailableException e) {
            String report = SandboxCheck.run(config).findings().stream().map(SandboxCheck.Finding::line)
                    .collect(Collectors.joining("\n"));
            return fail("these tests need the sandbox (" + e.getMessage() + "):\n" + report);
        }
    }

    /**
     * A data folder under a JUnit temporary folder. JUnit makes that folder private (0700); it is opened for searching
     * (0711), since as root the sandbox runs as nobody and must reach the data folder through it.
     */
    public static Path dataDir(Path tempDir) {
        try {
            Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwx--x--x"));
            return Files.createDirectories(tempDir.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
