package io.github.chatglm4j.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one way the project writes files: under a fresh temporary name next to the target, created exclusively (an
 * existing file or symbolic link at that name is never opened, so a planted link cannot redirect the write), then
 * moved onto the target in one atomic rename (the target is complete or untouched; a link at the target is
 * replaced, not followed). A temporary file still open when the JVM is stopped (Ctrl-C, SIGTERM) is deleted by a
 * shutdown hook; only SIGKILL or a power cut can leave one, named {@code TARGET.<random>.tmp}.
 *
 * <pre>{@code
 * try (SafeFiles.Pending file = SafeFiles.create(target)) {
 *     FileChannel ch = file.channel();   // write (or map) the content
 *     file.commit(false);                // rename onto target; fails if it appeared meanwhile
 * }                                      // without commit: the temporary file is deleted
 * }</pre>
 */
public final class SafeFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<Pending> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("chatglm-temp-cleanup").unstarted(() -> {
            for (Pending p : OPEN) {
                p.deleteTemp();
            }
        }));
    }

    private SafeFiles() {
    }

    /** A file being written under a temporary name; {@link #commit} moves it onto the target, {@link #close} discards it. */
    public static final class Pending implements AutoCloseable {
        private final Path target;
        private final Path temp;
        private final FileChannel channel;
        private boolean done;

        private Pending(Path target, Path temp, FileChannel channel) {
            this.target = target;
            this.temp = temp;
            this.channel = channel;
        }

        /** The open file (read and write, so that it can also be mapped). */
        public FileChannel channel() {
            return channel;
        }

        /** The temporary name (for messages and tests). */
        public Path temp() {
            return temp;
        }

        /**
         * Forces the content to disk, closes the file and renames it onto the target.
         *
         * @param replace replace an existing target; otherwise its appearance meanwhile is an error
         * @throws FileAlreadyExistsException if the target exists and {@code replace} is false (the temp file is deleted)
         */
        public void commit(boolean replace) throws IOException {
            if (done) {
                throw new IllegalStateException("already committed or discarded: " + target);
            }
            done = true;
            try {
                channel.force(true);
                channel.close();
                if (!replace && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new FileAlreadyExistsException(target.toString(), null, "appeared while writing; not replaced");
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                deleteTemp();
                throw e;
            } finally {
                OPEN.remove(this);
            }
        }

        /** Without a commit: closes and deletes the temporary file. */
        @Override
        public void close() throws IOException {
            if (done) {
                return;
            }
            done = true;
            try {
                channel.close();
            } finally {
                deleteTemp();
                OPEN.remove(this);
            }
        }

        private void deleteTemp() {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // nothing more can be done while stopping
            }
        }
    }

    /** Starts writing {@code target}: creates {@code TARGET.<random>.tmp} in its directory, exclusively. */
    public static Pending create(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            byte[] suffix = new byte[6];
            RANDOM.nextBytes(suffix);
            try {
                return create(target, target.resolveSibling(target.getFileName() + "." + HexFormat.of().formatHex(suffix) + ".tmp"));
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 8) {
                    throw e;
                }
            }
        }
    }

    /**
     * With a given temporary name; fails if anything (a file, a symbolic link, even a dangling one) exists there.
     *
     * @throws FileAlreadyExistsException if {@code temp} exists
     */
    static Pending create(Path target, Path temp) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(temp.toString(), null, "exists (a file or link in the way of the temporary file); not opened");
        }
        var p = new Pending(target, temp, ch);
        OPEN.add(p);
        return p;
    }

    /** Writes {@code bytes} as the whole content of {@code target}, atomically. */
    public static void write(Path target, byte[] bytes, boolean replace) throws IOException {
        try (Pending p = create(target)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                p.channel().write(b);
            }
            p.commit(replace);
        }
    }

    /** Copies {@code source} to {@code target}, atomically. */
    public static void copy(Path source, Path target, boolean replace) throws IOException {
        try (Pending p = create(target); InputStream in = Files.newInputStream(source)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    p.channel().write(b);
                }
            }
            p.commit(replace);
        }
    }

    /** Temporary files open now (for tests). */
    static int openCount() {
        return OPEN.size();
    }
}
