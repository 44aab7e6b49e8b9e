package io.github.chatglm4j.hub;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one file into its {@code .incomplete} file and, once its size and checksum match, renames it to its
 * final name. An existing {@code .incomplete} file is resumed with {@code Range: bytes=N-}; a server that answers
 * 200 instead of 206 makes the file start over from byte 0, so the bytes on disk are always a prefix of the file.
 * Transient failures are retried from wherever the file got to. With several connections, the rest of a large file
 * is fetched as that many ranges in parallel and hashed once complete; an interrupted parallel download keeps only
 * its contiguous prefix.
 */
final class BlobTransfer {
    /** Below this, parallel ranges are not worth their requests. */
    static final long PARALLEL_MIN_BYTES = 64L << 20;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubHttp http;
    private final DownloadListener listener;
    private final int connections;
    private final long parallelMinBytes;

    BlobTransfer(HubHttp http, DownloadListener listener, int connections, long parallelMinBytes) {
        this.http = http;
        this.listener = listener;
        this.connections = connections;
        this.parallelMinBytes = parallelMinBytes;
    }

    /**
     * One file to fetch.
     *
     * @param planBytes the plan's byte counter, moved by every byte written (and back on a restart)
     */
    record Job(ModelRef ref, RemoteFile file, String commit, URI uri, Path incomplete, Path target, AtomicLong planBytes) {
    }

    /** Fetches, verifies and publishes {@code job.target()}; the incomplete file stays for resuming on failure. */
    void fetch(Job job) {
        RemoteFile file = job.file();
        HubHttp.Context context = new HubHttp.Context(job.ref(), file.path());
        Progress progress = new Progress(job);
        try {
            Files.createDirectories(job.incomplete().getParent());
            try (FileChannel channel = openIncomplete(job.incomplete())) {
                long have = channel.size();
                if (have > file.size()) {
                    channel.truncate(0);
                    have = 0;
                }
                progress.set(have);
                if (have > 0) {
                    listener.note("resuming " + file.path() + " at " + mib(have) + " of " + mib(file.size()));
                }
                BlobDigest digest = BlobDigest.of(file);
                boolean hashed = false;
                if (connections > 1 && file.size() - have >= parallelMinBytes) {
                    have = parallel(job, channel, have, progress, context);
                }
                if (have < file.size()) {
                    if (digest != null) {
                        digest.update(channel, have);
                    }
                    sequential(job, channel, have, digest, progress, context);
                    hashed = true;
                } else if (digest != null) {
                    digest.update(channel, file.size());
                    hashed = true;
                }
                verify(job, channel, digest, hashed);
                channel.force(true);
            }
            Files.createDirectories(job.target().getParent());
            Files.move(job.incomplete(), job.target(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw diskError(job, e);
        }
    }

    private void verify(Job job, FileChannel channel, BlobDigest digest, boolean hashed) throws IOException {
        RemoteFile file = job.file();
        long size = channel.size();
        String problem = null;
        if (size != file.size()) {
            problem = "size " + size + " instead of " + file.size();
        } else if (digest != null && hashed) {
            String actual = digest.actual();
            if (!actual.equalsIgnoreCase(digest.expected())) {
                problem = digest.algorithm() + " " + actual + " instead of " + digest.expected();
            }
        }
        if (problem != null) {
            channel.close();
            Files.deleteIfExists(job.incomplete());
            job.planBytes().addAndGet(-size);
            throw new HubException(HubException.Kind.CHECKSUM, job.ref() + ": " + file.path() + " arrived corrupted ("
                    + problem + "); the download was discarded and nothing was kept: run the command again");
        }
    }

    private void sequential(Job job, FileChannel channel, long start, BlobDigest digest, Progress progress,
                            HubHttp.Context context) throws IOException {
        RemoteFile file = job.file();
        long have = start;
        int failures = 0;
        while (have < file.size()) {
            long before = have;
            FileSink sink = null;
            try {
                HubHttp.Opened opened = http.open(job.uri(), have, -1, context);
                checkHubHeaders(job, opened.hub().headers());
                int status = opened.response().statusCode();
                long from = status == 206 ? rangeStart(opened.response().headers()) : 0;
                if (status == 416 || from != have) {
                    if (status == 416 || from != 0) {
                        HubHttp.discard(opened.response());
                    }
                    listener.note(job.ref().repo() + ": the server ignored the request to resume " + file.path()
                            + (status == 416 ? " (HTTP 416)" : "") + "; downloading it from the start");
                    channel.truncate(0);
                    have = 0;
                    progress.set(0);
                    if (digest != null) {
                        digest.reset();
                    }
                    if (status == 416 || from != 0) {
                        failures++;
                        continue;
                    }
                }
                sink = new FileSink(channel, have, file.size(), digest, progress::add);
                opened.response().body().subscribe(sink);
                await(sink);
                have = sink.position();
                if (have < file.size()) {
                    throw new HubHttp.Transient("the connection closed after " + have + " of " + file.size() + " bytes", null);
                }
            } catch (IOException e) {
                if (sink != null) {
                    have = sink.position();
                }
                channel.truncate(have);
                progress.set(have);
                if (isDiskFull(e)) {
                    throw e;
                }
                failures = have > before ? 1 : failures + 1;
                listener.note(file.path() + ": " + reason(e) + "; retrying" + (have > 0 ? " from " + mib(have) : ""));
                http.waitOrGiveUp(e, failures, job.uri(), context);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubException.Kind.NETWORK, "interrupted", e);
            }
        }
    }

    /** Fetches the rest of the file as parallel ranges; returns the bytes on disk as a contiguous prefix. */
    private long parallel(Job job, FileChannel channel, long have, Progress progress, HubHttp.Context context) throws IOException {
        long size = job.file().size();
        int n = connections;
        long step = (size - have + n - 1) / n;
        List<Part> parts = new ArrayList<>();
        for (long from = have; from < size; from += step) {
            parts.add(new Part(from, Math.min(size, from + step)));
        }
        // Ctrl-C during a parallel download: keep only the contiguous prefix, so a resume stays correct
        Thread hook = new Thread(() -> truncateQuietly(job.incomplete(), contiguous(have, parts)), "chatglm-download-truncate");
        Runtime.getRuntime().addShutdownHook(hook);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> futures = new ArrayList<>();
            for (Part p : parts) {
                futures.add(pool.submit(() -> fetchPart(job, channel, p, parts, progress, context)));
            }
            boolean allRanged = true;
            RuntimeException failure = null;
            for (Future<Boolean> f : futures) {
                try {
                    allRanged &= f.get();
                } catch (ExecutionException e) {
                    for (Part p : parts) {
                        p.stop = true;
                    }
                    if (failure == null) {
                        failure = e.getCause() instanceof RuntimeException r ? r : new HubException(HubException.Kind.IO,
                                job.file().path() + ": " + e.getCause().getMessage(), e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new HubException(HubException.Kind.NETWORK, "interrupted", e);
                }
            }
            long prefix = contiguous(have, parts);
            if (prefix < size) {
                channel.truncate(prefix);
                progress.set(prefix);
            }
            if (failure != null) {
                throw failure;
            }
            if (!allRanged) {
                listener.note(job.ref().repo() + ": the server does not serve ranges; downloading " + job.file().path() + " in one stream");
            }
            return prefix;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down: the hook runs
            }
        }
    }

    /** One range of a parallel download; {@code pos} is how far it got. */
    private static final class Part {
        final long from;
        final long end;
        volatile long pos;
        volatile boolean stop;
        volatile FileSink sink;

        Part(long from, long end) {
            this.from = from;
            this.end = end;
            this.pos = from;
        }
    }

    /** Returns false when the server answered without a range (the part then stops; the rest goes sequentially). */
    private boolean fetchPart(Job job, FileChannel channel, Part part, List<Part> all, Progress progress,
                              HubHttp.Context context) throws IOException, InterruptedException {
        int failures = 0;
        while (part.pos < part.end && !part.stop) {
            long before = part.pos;
            try {
                HubHttp.Opened opened = http.open(job.uri(), part.pos, part.end - 1, context);
                checkHubHeaders(job, opened.hub().headers());
                if (opened.response().statusCode() != 206 || rangeStart(opened.response().headers()) != part.pos) {
                    HubHttp.discard(opened.response());
                    for (Part p : all) {
                        p.stop = true;
                    }
                    return false;
                }
                FileSink sink = new FileSink(channel, part.pos, part.end, null, progress::add);
                part.sink = sink;
                opened.response().body().subscribe(sink);
                try {
                    await(sink);
                } finally {
                    part.pos = sink.position();
                }
                if (part.pos < part.end && !part.stop) {
                    throw new HubHttp.Transient("the connection closed early", null);
                }
            } catch (IOException e) {
                if (isDiskFull(e) || part.stop) {
                    throw e;
                }
                failures = part.pos > before ? 1 : failures + 1;
                http.waitOrGiveUp(e, failures, job.uri(), context);
            }
        }
        return true;
    }

    private static long contiguous(long have, List<Part> parts) {
        long prefix = have;
        for (Part p : parts) {
            if (p.from != prefix) {
                break;
            }
            prefix = p.pos;
            if (p.pos < p.end) {
                break;
            }
        }
        return prefix;
    }

    private static void truncateQuietly(Path file, long size) {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            c.truncate(size);
        } catch (IOException | RuntimeException ignored) {
            // a wrong prefix is caught by the checksum on the next run
        }
    }

    /** Waits for a transfer to end; one that receives nothing for the idle timeout is cancelled. */
    private void await(FileSink sink) throws IOException, InterruptedException {
        Duration idle = http.options().idleTimeout();
        while (true) {
            try {
                sink.done().get(idle.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                if (System.nanoTime() - sink.lastActivity() >= idle.toNanos()) {
                    sink.cancel();
                    throw new HubHttp.Transient("no data for " + idle.toMillis() / 1000.0 + " s", null);
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                throw cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
            }
        }
    }

    /** The hub's own headers must describe the file we listed (a mirror serving another revision is an error). */
    private void checkHubHeaders(Job job, HttpHeaders headers) {
        if (job.ref().source() != Source.HUGGING_FACE) {
            return;
        }
        RemoteFile file = job.file();
        String commit = headers.firstValue("X-Repo-Commit").orElse(null);
        if (commit != null && !commit.equals(job.commit())) {
            throw new HubException(HubException.Kind.PROTOCOL, job.ref() + ": the hub served " + file.path() + " of commit "
                    + commit + " for commit " + job.commit() + " (a stale mirror?)");
        }
        String etag = normalizeEtag(headers.firstValue("X-Linked-Etag").orElse(null));
        if (etag != null && file.sha256() != null && !etag.equalsIgnoreCase(file.sha256())) {
            throw new HubException(HubException.Kind.PROTOCOL, job.ref() + ": the hub's ETag for " + file.path() + " is "
                    + etag + " but its listing says " + file.sha256());
        }
        String size = headers.firstValue("X-Linked-Size").orElse(null);
        if (size != null && !size.strip().equals(String.valueOf(file.size()))) {
            throw new HubException(HubException.Kind.PROTOCOL, job.ref() + ": the hub says " + file.path() + " has "
                    + size.strip() + " bytes but its listing says " + file.size());
        }
    }

    /** {@code W/"abc"} and {@code "abc"} both mean {@code abc}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }

    private static long rangeStart(HttpHeaders headers) throws IOException {
        String cr = headers.firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(cr.strip());
        if (!m.matches()) {
            throw new HubHttp.Transient("206 without a valid Content-Range ('" + cr + "')", null);
        }
        return Long.parseLong(m.group(1));
    }

    /** Opens the partial file for appending, never through a symlink planted under its name. */
    private static FileChannel openIncomplete(Path file) throws IOException {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(file + " is not a regular file; remove it");
            }
            return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        }
        return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
    }

    static boolean isDiskFull(IOException e) {
        String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
        return m.contains("no space left") || m.contains("disk quota exceeded") || m.contains("not enough space");
    }

    private HubException diskError(Job job, IOException e) {
        if (isDiskFull(e)) {
            return new HubException(HubException.Kind.DISK_FULL, "disk full while writing " + job.file().path() + " to "
                    + job.incomplete().getParent() + ": free some space (or point the cache elsewhere, e.g. HF_HUB_CACHE) "
                    + "and run again; the partial download is kept and resumes", e);
        }
        String what = e instanceof FileSystemException f && f.getReason() != null ? f.getFile() + ": " + f.getReason() : String.valueOf(e.getMessage());
        return new HubException(HubException.Kind.IO, "cannot write the download of " + job.file().path() + ": " + what, e);
    }

    private static String reason(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    /** This file's bytes on disk, mirrored into the plan's counter and reported. */
    private final class Progress {
        private final Job job;
        private final AtomicLong fileBytes = new AtomicLong();

        Progress(Job job) {
            this.job = job;
        }

        void set(long bytes) {
            long delta = bytes - fileBytes.getAndSet(bytes);
            report(job.planBytes().addAndGet(delta), bytes);
        }

        void add(long n) {
            long file = fileBytes.addAndGet(n);
            report(job.planBytes().addAndGet(n), file);
        }

        private void report(long plan, long file) {
            listener.progress(job.file(), file, plan);
        }
    }
}
