package io.github.chatglm4j.agent.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a process's output stream to its end on a virtual thread, keeping at most {@code limit} bytes: a program that
 * prints without end costs a counter, not memory. Reading on continues, so the program never blocks on a full pipe.
 */
final class CappedText {
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final int limit;
    private long dropped;
    private final Thread reader;

    private CappedText(InputStream in, int limit, String name) {
        this.limit = limit;
        this.reader = Thread.ofVirtual().name(name).start(() -> drain(in));
    }

    static CappedText read(InputStream in, int limit, String name) {
        return new CappedText(in, limit, name);
    }

    private void drain(InputStream in) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (this) {
                    int keep = Math.max(0, Math.min(n, limit - kept.size()));
                    kept.write(buf, 0, keep);
                    dropped += n - keep;
                }
            }
        } catch (IOException ignored) {
            // the process went away: what was read is what there is
        }
    }

    /** Waits until the stream has ended (the process and everything holding the pipe are gone). */
    CappedText awaitEnd() throws InterruptedException {
        reader.join();
        return this;
    }

    /** What was kept so far, decoded as UTF-8 (broken sequences become U+FFFD). */
    synchronized String text() {
        return kept.toString(StandardCharsets.UTF_8);
    }

    /** What was kept so far, as bytes. */
    synchronized byte[] bytes() {
        return kept.toByteArray();
    }

    /** Bytes read beyond the limit. */
    synchronized long dropped() {
        return dropped;
    }
}
