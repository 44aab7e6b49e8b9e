package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/** Walking cache directories: sizes through snapshot links, and deletion that never follows a link out. */
final class CacheTrees {
    private CacheTrees() {
    }

    /** Bytes of the files a directory shows, following its symlinks, each target counted once. */
    static long size(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        Set<Path> seen = new HashSet<>();
        long[] total = {0};
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".")) {
                    Path real = p.toRealPath();
                    if (seen.add(real)) {
                        total[0] += Files.size(real);
                    }
                }
            }
        }
        return total[0];
    }

    /** Deletes a tree; symlinks are removed, never followed. */
    static void delete(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                delete1(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                delete1(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void delete1(Path p) throws IOException {
        try {
            Files.delete(p);
        } catch (NoSuchFileException ignored) {
            // gone already
        }
    }
}
