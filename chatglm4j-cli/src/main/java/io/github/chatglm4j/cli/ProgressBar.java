package io.github.chatglm4j.cli;

import io.github.chatglm4j.format.LoadProgress;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr for loading and writing models. On a terminal it redraws in place (at most ten
 * times a second, and only once a stage has lasted a moment, so fast stages leave no trace); otherwise it prints a
 * plain line every 25 % when {@code plainLines} is set, or nothing.
 */
final class ProgressBar implements LoadProgress {
    private static final long DELAY_NANOS = 300_000_000L;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream err;
    private final long delayNanos;
    private final boolean terminal;
    private final boolean plainLines;
    private final int columns;
    private String stage = "";
    private long stageStart;
    private long lastDraw;
    private int lastQuarter = -1;
    private boolean drawn;

    ProgressBar(Io io, boolean plainLines) {
        this(io, plainLines, DELAY_NANOS);
    }

    ProgressBar(Io io, boolean plainLines, long delayNanos) {
        this.err = io.err();
        this.delayNanos = delayNanos;
        this.terminal = io.stderrTerminal();
        this.plainLines = plainLines;
        this.columns = Math.max(40, Math.min(io.terminalColumns(), 120));
    }

    @Override
    public synchronized void update(String stage, long done, long total) {
        long now = System.nanoTime();
        if (!stage.equals(this.stage)) {
            finishLine();
            this.stage = stage;
            stageStart = now;
            lastDraw = 0;
            lastQuarter = -1;
        }
        boolean complete = done >= total;
        double fraction = total <= 0 ? 1 : Math.min(1, (double) done / total);
        if (terminal) {
            if (now - stageStart < delayNanos && !drawn || !complete && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            lastDraw = now;
            drawn = true;
            err.print("\r" + line(fraction, done, total, now) + (complete ? "\n" : ""));
            drawn = !complete;
        } else if (plainLines) {
            int quarter = (int) (fraction * 4);
            if (quarter != lastQuarter) {
                lastQuarter = quarter;
                err.println(String.format(Locale.ROOT, "%s: %3.0f%% (%s of %s)", stage, fraction * 100, bytes(done), bytes(total)));
            }
        }
        err.flush();
    }

    /** Ends a bar that the caller stops updating before completion (e.g. on an error). */
    synchronized void finishLine() {
        if (drawn) {
            err.println();
            drawn = false;
        }
    }

    private String line(double fraction, long done, long total, long now) {
        double seconds = Math.max(1e-9, (now - stageStart) / 1e9);
        String tail = String.format(Locale.ROOT, " %3.0f%% %s/%s %s/s", fraction * 100, bytes(done), bytes(total), bytes((long) (done / seconds)));
        String head = String.format(Locale.ROOT, "%-8s [", stage);
        int width = Math.max(10, columns - 1 - head.length() - tail.length() - 1);
        int filled = (int) Math.round(fraction * width);
        return head + "#".repeat(filled) + " ".repeat(width - filled) + "]" + tail;
    }

    static String bytes(long bytes) {
        if (bytes < 1L << 30) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
        }
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
