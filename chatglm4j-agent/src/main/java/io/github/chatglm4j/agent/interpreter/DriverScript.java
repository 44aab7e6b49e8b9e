package io.github.chatglm4j.agent.interpreter;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The worker's Python driver, extracted once per JVM from the jar into a folder of its own (readable by the sandbox
 * user, writable by nobody else), written exclusively and renamed into place, removed when the JVM exits.
 */
final class DriverScript {
    static final String FILE_NAME = "driver.py";
    /** Where the folder appears inside the sandbox. */
    static final String SANDBOX_DIR = "/opt/chatglm4j";

    private static Path directory;

    private DriverScript() {
    }

    static synchronized Path directory() {
        if (directory == null) {
            directory = extract();
        }
        return directory;
    }

    private static Path extract() {
        try {
            Path dir = Files.createTempDirectory("chatglm4j-driver-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir), "chatglm4j-driver-cleanup"));
            Path part = dir.resolve(FILE_NAME + ".part");
            try (InputStream in = DriverScript.class.getResourceAsStream(FILE_NAME);
                 OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (in == null) {
                    throw new IllegalStateException(FILE_NAME + " is missing from the jar");
                }
                in.transferTo(out);
            }
            Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("r--r--r--"));
            Files.move(part, dir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the Python driver: " + e.getMessage(), e);
        }
    }

    private static void delete(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve(FILE_NAME + ".part"));
            Files.deleteIfExists(dir.resolve(FILE_NAME));
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // the JVM is exiting; a leftover read-only file in the temp folder is harmless
        }
    }
}
