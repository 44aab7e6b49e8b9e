package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.DownloadListener;
import io.github.chatglm4j.hub.DownloadPlan;
import io.github.chatglm4j.hub.RemoteFile;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows a download on stderr. First what will be fetched (files, sizes, destination); then, on a terminal, two
 * bars in the style of {@link ProgressBar} redrawn in place at most ten times a second: the current file and the
 * total, each with bytes, speed and time left (finished files stay as one line each); elsewhere a plain line per
 * file at every quarter. {@code quiet} shows nothing but notes about retries.
 */
final class DownloadProgress implements DownloadListener {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final String UP = "\u001b[1A";
    private static final String CLEAR = "\u001b[K";

    private final PrintStream err;
    private final boolean terminal;
    private final boolean quiet;
    private final int columns;
    private final long startNanos = System.nanoTime();
    private long planTotal;
    private long planStartBytes = -1;
    private long planBytes;
    private RemoteFile current;
    private long fileStartNanos;
    private long fileStartBytes;
    private long fileBytes;
    private int lastQuarter = -1;
    private long lastDraw;
    private boolean drawn;

    DownloadProgress(Io io, boolean quiet) {
        this.err = io.err();
        this.terminal = io.stderrTerminal();
        this.quiet = quiet;
        this.columns = Math.max(40, Math.min(io.terminalColumns(), 120));
    }

    @Override
    public synchronized void planned(DownloadPlan plan) {
        planTotal = plan.missingBytes();
        planBytes = plan.missingBytes() - plan.bytesToFetch();
        if (quiet || plan.missing().isEmpty()) {
            return;
        }
        err.println("chatglm: downloading " + plan.ref() + " (commit " + abbreviate(plan.commit()) + "): "
                + plan.missing().size() + " of " + plan.files().size() + " files, " + size(plan.bytesToFetch())
                + (plan.bytesToFetch() < plan.missingBytes() ? " (" + size(plan.missingBytes() - plan.bytesToFetch()) + " already partly there)" : "")
                + " into " + plan.destination());
        for (RemoteFile f : plan.missing()) {
            err.println(String.format(Locale.ROOT, "  %-40s %10s", f.path(), size(f.size())));
        }
        err.flush();
    }

    @Override
    public synchronized void progress(RemoteFile file, long fileBytes, long planBytes) {
        long now = System.nanoTime();
        if (planStartBytes < 0) {
            planStartBytes = planBytes;
        }
        if (!file.equals(current)) {
            current = file;
            fileStartNanos = now;
            fileStartBytes = fileBytes;
            lastQuarter = -1;
        }
        this.fileBytes = fileBytes;
        this.planBytes = planBytes;
        if (quiet) {
            return;
        }
        if (terminal) {
            if (now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                draw(now);
            }
        } else {
            int quarter = file.size() <= 0 ? 4 : (int) (4 * fileBytes / file.size());
            if (quarter != lastQuarter) {
                lastQuarter = quarter;
                err.println(String.format(Locale.ROOT, "%s: %3d%% (%s of %s), total %3.0f%% (%s of %s)", file.path(),
                        quarter * 25, size(fileBytes), size(file.size()),
                        100.0 * planBytes / Math.max(1, planTotal), size(planBytes), size(planTotal)));
                err.flush();
            }
        }
    }

    @Override
    public synchronized void finished(RemoteFile file) {
        if (quiet || !terminal || !file.equals(current)) {
            return;
        }
        long now = System.nanoTime();
        fileBytes = file.size();
        // the file's finished bar stays; the total goes on below it
        err.print(erase() + line(file.path(), fileBytes, file.size(), fileStartBytes, fileStartNanos, now) + "\n");
        drawn = false;
        if (planBytes >= planTotal) {
            err.print(line("total", planBytes, planTotal, planStartBytes, startNanos, now) + "\n");
        } else {
            draw(now);
        }
        err.flush();
    }

    @Override
    public synchronized void note(String message) {
        String text = "chatglm: " + message;
        if (terminal && drawn) {
            err.print(erase() + text + "\n");
            drawn = false;
            draw(System.nanoTime());
        } else {
            err.println(text);
        }
        err.flush();
    }

    /** Moves to the start of the drawn region and clears it (nothing if nothing is drawn). */
    private String erase() {
        return drawn ? "\r" + CLEAR + UP + "\r" + CLEAR : "";
    }

    private void draw(long now) {
        if (current == null) {
            return;
        }
        err.print(erase() + line(current.path(), fileBytes, current.size(), fileStartBytes, fileStartNanos, now) + "\n"
                + line("total", planBytes, planTotal, planStartBytes, startNanos, now));
        drawn = true;
        err.flush();
    }

    /** {@code name [#####     ]  45% 1.2 GiB/2.0 GiB 48.0 MiB/s 0:17 left}, fitted to the terminal width. */
    private String line(String name, long done, long total, long startBytes, long since, long now) {
        double fraction = total <= 0 ? 1 : Math.min(1, (double) done / total);
        double seconds = Math.max(1e-3, (now - since) / 1e9);
        double speed = Math.max(0, done - Math.max(0, startBytes)) / seconds;
        String eta = done >= total ? "done" : speed <= 0 ? "--:--" : clock((long) ((total - done) / speed)) + " left";
        String tail = String.format(Locale.ROOT, " %3.0f%% %s/%s %s/s %s", fraction * 100, size(done),
                size(total), size((long) speed), eta);
        String label = name.length() > 24 ? "…" + name.substring(name.length() - 23) : name;
        String head = String.format(Locale.ROOT, "%-24s [", label);
        int width = Math.max(10, columns - 1 - head.length() - tail.length() - 1);
        int filled = (int) Math.round(fraction * width);
        return head + "#".repeat(filled) + " ".repeat(width - filled) + "]" + tail;
    }

    static String clock(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    /** {@code 1.0 KiB}, {@code 8.0 MiB}, {@code 11.63 GiB}: binary units, like the load progress bar. */
    static String size(long bytes) {
        if (bytes < 1 << 20) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return ProgressBar.bytes(bytes);
    }

    private static String abbreviate(String commit) {
        return commit.length() == 40 ? commit.substring(0, 12) : commit;
    }
}
