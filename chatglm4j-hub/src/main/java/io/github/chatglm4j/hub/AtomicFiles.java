package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/** Small cache entries written whole or not at all: a fresh temporary name (CREATE_NEW), then an atomic rename. */
final class AtomicFiles {
    private AtomicFiles() {
    }

    static void writeString(Path target, String content) throws IOException {
        writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
    }

    static void writeBytes(Path target, byte[] content) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = temp(target);
        try {
            Files.write(tmp, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Points {@code link} at {@code target} (a relative path), replacing whatever was there in one step. */
    static void symlink(Path link, Path target) throws IOException {
        Files.createDirectories(link.getParent());
        Path tmp = temp(link);
        try {
            Files.createSymbolicLink(tmp, target);
            Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path temp(Path target) {
        return target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    }

    static boolean isPresent(Path p) {
        return Files.exists(p) || Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
