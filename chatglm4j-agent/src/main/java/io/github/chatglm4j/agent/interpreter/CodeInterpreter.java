package io.github.chatglm4j.agent.interpreter;

import io.github.chatglm4j.chat.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxProcess;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A notebook-like Python session for one conversation: one long-lived sandboxed worker keeps variables, imports and
 * files across cells; each cell returns its output, the value of a last expression, its traceback, its figures and
 * the files it wrote under {@code /mnt/data}. A cell that runs past the timeout gets SIGINT (KeyboardInterrupt, state
 * kept); if it does not stop, the worker is killed and restarted (state lost), and the result says which happened.
 *
 * <pre>{@code
 * Sandbox sandbox = Sandbox.open(SandboxConfig.DEFAULTS);
 * try (CodeInterpreter python = CodeInterpreter.start(sandbox, Path.of("/tmp/conversation-1"), InterpreterOptions.DEFAULTS)) {
 *     python.run("import numpy as np\nx = np.arange(10)");
 *     CellResult r = python.run("x.sum()");          // r.text() is "45\n"
 * }
 * }</pre>
 * Cells run one at a time; {@link #cancel()} may be called from any thread.
 */
public final class CodeInterpreter implements AutoCloseable {
    /** The system prompt ChatGLM3 was trained with for the code interpreter. */
    public static final String SYSTEM_PROMPT = ChatMessage.INTERPRETER_PROMPT;
    private static final String STATE_LOST = "the Python worker was restarted, so variables and imports are lost "
            + "(files in /mnt/data are kept)";
    private static final int SIGKILL = 9;
    private static final int SIGXCPU = 24;

    private final Sandbox sandbox;
    private final Path dataDir;
    private final InterpreterOptions options;
    /** Replaced only under this object's lock; read without it by {@link #process()}. */
    private volatile PythonWorker worker;
    private Map<String, DataFile> listing = Map.of();
    private Map<String, Long> modified = Map.of();
    private int cellId;
    private volatile PythonWorker running;
    private volatile boolean closed;

    private CodeInterpreter(Sandbox sandbox, Path dataDir, InterpreterOptions options) {
        this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
        this.dataDir = dataDir.toAbsolutePath();
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Starts the worker, with {@code dataDir} (created if missing) at {@code /mnt/data}.
     *
     * @throws SandboxUnavailableException if the worker cannot start, saying why
     */
    public static CodeInterpreter start(Sandbox sandbox, Path dataDir, InterpreterOptions options) throws InterruptedException {
        var interpreter = new CodeInterpreter(sandbox, dataDir, options);
        interpreter.startWorker();
        return interpreter;
    }

    public Path dataDir() {
        return dataDir;
    }

    public InterpreterOptions options() {
        return options;
    }

    /** The Python version of the worker, e.g. "3.11.2". */
    public synchronized String pythonVersion() {
        return worker == null ? "" : worker.ready().python();
    }

    /** The files under /mnt/data after the last cell (at most 1000). */
    public synchronized List<DataFile> files() {
        return List.copyOf(listing.values());
    }

    /**
     * Runs one cell and returns what it did. Never throws for anything the code does; the worker is restarted when it
     * dies or hangs.
     *
     * @throws SandboxUnavailableException if a worker needed for this cell cannot be started
     * @throws InterruptedException        if this thread is interrupted (the worker is then killed)
     */
    public CellResult run(String code) throws InterruptedException {
        return run(code, Cancellation.NONE);
    }

    /**
     * {@link #run(String)}, interrupted like a timeout when {@code cancel} fires (a cell cancelled before it started is
     * not run at all).
     */
    public synchronized CellResult run(String code, Cancellation cancel) throws InterruptedException {
        if (closed) {
            throw new IllegalStateException("the interpreter is closed");
        }
        if (worker == null) {
            startWorker();
        }
        PythonWorker w = worker;
        w.dropStaleMessages();
        int id = ++cellId;
        running = w;
        try (var _ = cancel.onCancel(w::cancel)) {
            if (cancel.isCancelled()) {
                return new CellResult("", 0, null, List.of(), List.of(), false, true, false, "Cancelled before the cell ran.");
            }
            w.send(id, code); // if the worker is gone, its output ends and the wait below says why
            return await(w, id);
        } catch (InterruptedException e) {
            discardWorker();
            throw e;
        } finally {
            running = null;
        }
    }

    private CellResult await(PythonWorker w, int id) throws InterruptedException {
        long deadline = System.nanoTime() + options.cellTimeout().toNanos();
        boolean interrupted = false;
        boolean timedOut = false;
        boolean cancelled = false;
        while (true) {
            WorkerMessage m = w.next(Duration.ofNanos(deadline - System.nanoTime()));
            if (m == null || m instanceof WorkerMessage.Cancel) {
                if (m == null && interrupted) {
                    String why = (timedOut ? timeoutText() : "Cancelled") + ", and the cell did not stop when interrupted";
                    return restartAfter(why, timedOut, cancelled);
                }
                if (m == null) {
                    timedOut = true;
                } else {
                    cancelled = true;
                }
                if (!interrupted) {
                    interrupted = true;
                    w.interrupt();
                    deadline = System.nanoTime() + options.interruptGrace().toNanos();
                }
                continue;
            }
            switch (m) {
                case WorkerMessage.Reply r when r.body().path("id").asInt() == id -> {
                    try {
                        return reply(r.body(), timedOut, cancelled);
                    } catch (RuntimeException e) {
                        // the code can reach the driver's reply channel; what it writes there must not break the JVM
                        return restartAfter("The Python worker sent a reply that could not be read (" + e.getMessage() + ")",
                                timedOut, cancelled);
                    }
                }
                case WorkerMessage.Reply r -> {
                    // a reply to an earlier cell, after its timeout: nothing waits for it any more
                }
                case WorkerMessage.Ended e -> {
                    return restartAfter(death(e), timedOut, cancelled);
                }
                case WorkerMessage.Broken b -> {
                    return restartAfter("The Python worker stopped following its protocol (" + b.why() + ")", timedOut, cancelled);
                }
                case WorkerMessage.Ready r -> {
                    // only sent at start
                }
                case WorkerMessage.Cancel c -> throw new AssertionError("handled above");
            }
        }
    }

    private CellResult reply(JsonNode body, boolean timedOut, boolean cancelled) {
        var figures = new ArrayList<Figure>();
        for (JsonNode image : body.path("images")) {
            figures.add(new Figure(Base64.getDecoder().decode(image.asText())));
        }
        String error = body.path("error").isTextual() ? Ansi.strip(body.path("error").asText()) : null;
        String note = null;
        if (timedOut) {
            note = timeoutText() + ": the cell was interrupted (variables and files are kept).";
        } else if (cancelled) {
            note = "Cancelled: the cell was interrupted (variables and files are kept).";
        }
        int dropped = body.path("images_dropped").asInt();
        if (dropped > 0) {
            note = (note == null ? "" : note + " ") + dropped + " more figures were not captured.";
        }
        return new CellResult(body.path("text").asText(), body.path("dropped").asLong(), error, figures,
                changedFiles(body.path("files")), timedOut, cancelled, false, note);
    }

    /** Kills what is left of the worker, starts a new one, and reports the cell as lost with {@code why}. */
    private CellResult restartAfter(String why, boolean timedOut, boolean cancelled) throws InterruptedException {
        discardWorker();
        if (closed) {
            return new CellResult("", 0, null, List.of(), List.of(), timedOut, true, true, "Cancelled: the interpreter was closed.");
        }
        String note = why + ": " + STATE_LOST + ".";
        List<DataFile> changed = List.of();
        try {
            startWorker();
            changed = changedFiles(worker.ready().files());
        } catch (SandboxUnavailableException e) {
            note = why + "; a new Python worker could not be started (" + e.getMessage() + ").";
        }
        return new CellResult("", 0, null, List.of(), changed, timedOut, cancelled, true, note);
    }

    private String timeoutText() {
        Duration t = options.cellTimeout();
        return "Timed out after " + (t.toMillis() % 1000 == 0 ? t.toSeconds() + " s" : t.toMillis() + " ms");
    }

    /** Why the worker's process ended, from bubblewrap's exit code (128 + signal when a signal ended the program). */
    private String death(WorkerMessage.Ended e) {
        int code = e.exitCode();
        if (code == 128 + SIGXCPU) {
            return "The Python worker used up its CPU time (" + sandbox.config().limits().cpuSeconds() + " s)";
        }
        if (code == 128 + SIGKILL) {
            return "The Python worker was killed (SIGKILL)";
        }
        if (code > 128 && code < 128 + 65) {
            return "The Python worker was ended by signal " + (code - 128);
        }
        String why = PythonWorker.firstLine(e.stderr());
        return "The Python worker exited with code " + code + (why.isEmpty() ? "" : " (" + why + ")");
    }

    private List<DataFile> changedFiles(JsonNode files) {
        Map<String, DataFile> now = new LinkedHashMap<>();
        Map<String, Long> stamps = new LinkedHashMap<>();
        for (JsonNode f : files) {
            String name = f.path(0).asText();
            now.put(name, new DataFile(name, f.path(1).asLong()));
            stamps.put(name, f.path(2).asLong());
        }
        var changed = new ArrayList<DataFile>();
        for (var e : now.entrySet()) {
            Long before = modified.get(e.getKey());
            if (before == null || !before.equals(stamps.get(e.getKey()))
                    || listing.get(e.getKey()).size() != e.getValue().size()) {
                changed.add(e.getValue());
            }
        }
        listing = now;
        modified = stamps;
        return changed;
    }

    private void startWorker() throws InterruptedException {
        worker = PythonWorker.start(sandbox, dataDir, options);
        if (cellId == 0) {
            changedFiles(worker.ready().files()); // what was there before the first cell is not news
        }
    }

    private void discardWorker() {
        if (worker != null) {
            worker.close();
            worker = null;
        }
    }

    /**
     * Reads a file under /mnt/data as the code sees it. The read happens in a one-off sandbox ({@code cat}), so a
     * symbolic link the code made can never point the JVM at a file of the host.
     *
     * @param name       path relative to /mnt/data, as in {@link DataFile#name()}
     * @param maxBytes   larger files are refused
     * @throws IOException if the file cannot be read or is larger than {@code maxBytes}
     */
    public byte[] readFile(String name, int maxBytes) throws IOException, InterruptedException {
        if (name.isEmpty() || name.startsWith("/") || name.indexOf('\0') >= 0
                || List.of(name.split("/")).contains("..")) {
            throw new IllegalArgumentException("not a path under /mnt/data: " + name);
        }
        return sandbox.readFile(dataDir, "/mnt/data/" + name, maxBytes);
    }

    /** The sandbox the current worker runs in (for tests that check processes; works while a cell runs). */
    SandboxProcess process() {
        PythonWorker w = worker;
        return w == null ? null : w.process();
    }

    @Override
    public void close() {
        closed = true;
        PythonWorker w = running;
        if (w != null) {
            w.close(); // the running cell then sees its worker end and returns
        }
        synchronized (this) {
            discardWorker();
        }
    }
}
