package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * Excludes other downloads of the same file: other processes through an OS lock on a lock file (where
 * {@code huggingface_hub} keeps its own: {@code .locks/models--org--name/<etag>.lock}), other threads of this JVM
 * through a semaphore per path (the JVM's file locks are per process). The lock file itself is left in place, as
 * {@code huggingface_hub} does: deleting it would let two processes lock different files of the same name.
 */
final class CacheLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, Semaphore> IN_PROCESS = new ConcurrentHashMap<>();

    private final Semaphore local;
    private final FileChannel channel;
    private final FileLock lock;

    private CacheLock(Semaphore local, FileChannel channel, FileLock lock) {
        this.local = local;
        this.channel = channel;
        this.lock = lock;
    }

    /** Blocks until the lock is held; {@code waiting} is told once if someone else holds it. */
    static CacheLock acquire(Path file, Consumer<String> waiting) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        Semaphore local = IN_PROCESS.computeIfAbsent(key, k -> new Semaphore(1));
        boolean told = false;
        if (!local.tryAcquire()) {
            waiting.accept("waiting for another download of the same file in this process");
            told = true;
            local.acquireUninterruptibly();
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(key.getParent());
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                if (!told) {
                    waiting.accept("waiting for another process downloading the same file (lock " + key + ")");
                }
                lock = channel.lock();
            }
            return new CacheLock(local, channel, lock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            local.release();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock anyway
        } finally {
            local.release();
        }
    }
}
