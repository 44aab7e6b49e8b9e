package io.github.chatglm4j.hub;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Writes a response body into a file from a given position, feeding the checksum as the bytes arrive. Each buffer
 * is written before the next is requested, so after any failure {@link #position()} is exactly what is on disk.
 * It refuses to write past {@code limit} (a server sending more than the file's size).
 */
final class FileSink implements Flow.Subscriber<List<ByteBuffer>> {
    private final FileChannel channel;
    private final BlobDigest digest;
    private final long limit;
    private final LongConsumer written;
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private final AtomicLong position;
    private volatile long lastActivity = System.nanoTime();
    private volatile Flow.Subscription subscription;

    /**
     * @param digest  fed with every byte in order, or null (parallel parts hash the whole file afterwards)
     * @param written told the byte count of every write
     */
    FileSink(FileChannel channel, long start, long limit, BlobDigest digest, LongConsumer written) {
        this.channel = channel;
        this.position = new AtomicLong(start);
        this.limit = limit;
        this.digest = digest;
        this.written = written;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        lastActivity = System.nanoTime();
        try {
            for (ByteBuffer b : buffers) {
                int n = b.remaining();
                if (position.get() + n > limit) {
                    throw new IOException("the server sent more than the expected " + limit + " bytes");
                }
                ByteBuffer forDigest = b.duplicate();
                long pos = position.get();
                while (b.hasRemaining()) {
                    pos += channel.write(b, pos);
                }
                if (digest != null) {
                    digest.update(forDigest);
                }
                position.set(pos);
                written.accept(n);
            }
        } catch (IOException | RuntimeException e) {
            subscription.cancel();
            done.completeExceptionally(e);
            return;
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        done.complete(position.get());
    }

    /** Stops the transfer (closing its connection). */
    void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    CompletableFuture<Long> done() {
        return done;
    }

    long position() {
        return position.get();
    }

    long lastActivity() {
        return lastActivity;
    }
}
