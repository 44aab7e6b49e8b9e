package io.github.chatglm4j.agent.interpreter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxProcess;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One sandboxed Python process running the driver, and the JSON-lines protocol with it. A virtual thread reads the
 * worker's replies into a queue, so waiting for a cell is a bounded poll that a timeout or a cancel can end.
 */
final class PythonWorker implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Room for the images of a cell (base64) on top of its text. */
    private static final long IMAGE_BYTES = 64L * 1024 * 1024;

    private final SandboxProcess process;
    private final OutputStream requests;
    private final BlockingQueue<WorkerMessage> messages = new LinkedBlockingQueue<>();
    private final long maxLineBytes;
    private WorkerMessage.Ready ready;

    private PythonWorker(SandboxProcess process, int outputLimit) {
        this.process = process;
        this.requests = process.stdin();
        // a character is at most 6 bytes in the driver's ASCII-escaped JSON
        this.maxLineBytes = 6L * outputLimit + IMAGE_BYTES;
        Thread.ofVirtual().name("python-worker-" + process.processes().getFirst().pid()).start(this::readReplies);
    }

    /**
     * Starts a worker and waits until its driver is ready.
     *
     * @throws SandboxUnavailableException if the sandbox or the driver does not start, with the reason
     */
    static PythonWorker start(Sandbox sandbox, Path dataDir, InterpreterOptions options) throws InterruptedException {
        SandboxProcess p;
        try {
            p = sandbox.start(dataDir, Map.of(DriverScript.directory(), DriverScript.SANDBOX_DIR),
                    List.of(sandbox.config().python().toString(), "-I", "-B", "-X", "utf8",
                            DriverScript.SANDBOX_DIR + "/" + DriverScript.FILE_NAME, String.valueOf(options.outputLimit())));
        } catch (IOException e) {
            throw new SandboxUnavailableException("cannot start the sandbox: " + e.getMessage(), e);
        }
        var worker = new PythonWorker(p, options.outputLimit());
        WorkerMessage first;
        try {
            first = worker.next(options.startTimeout());
        } catch (InterruptedException e) {
            worker.close();
            throw e;
        }
        return worker.checkReady(first, options.startTimeout());
    }

    private PythonWorker checkReady(WorkerMessage first, Duration startTimeout) {
        switch (first) {
            case WorkerMessage.Ready r -> {
                ready = r;
                return this;
            }
            case WorkerMessage.Ended e -> {
                close();
                String why = firstLine(e.stderr());
                throw new SandboxUnavailableException("the Python worker did not start in the sandbox ("
                        + (why.isEmpty() ? "exit code " + e.exitCode() : why) + "); run 'chatglm sandbox check'");
            }
            case null -> {
                close();
                throw new SandboxUnavailableException("the Python worker did not start within " + startTimeout.toSeconds()
                        + " s; run 'chatglm sandbox check'");
            }
            default -> {
                close();
                throw new SandboxUnavailableException("the Python worker did not start properly: " + first);
            }
        }
    }

    WorkerMessage.Ready ready() {
        return ready;
    }

    SandboxProcess process() {
        return process;
    }

    /** Sends a cell; false if the worker is gone (its output will end with {@link WorkerMessage.Ended}). */
    boolean send(int id, String code) {
        ObjectNode request = JSON.createObjectNode().put("id", id).put("code", code);
        try {
            requests.write((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
            requests.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The next message, or null when {@code timeout} passes first. */
    WorkerMessage next(Duration timeout) throws InterruptedException {
        return messages.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    }

    /** Forgets replies and cancel requests left over from earlier cells. */
    void dropStaleMessages() {
        messages.removeIf(m -> m instanceof WorkerMessage.Cancel || m instanceof WorkerMessage.Reply);
    }

    /** Wakes whoever waits in {@link #next} with a cancel request. */
    void cancel() {
        messages.add(new WorkerMessage.Cancel());
    }

    boolean interrupt() {
        return process.interrupt();
    }

    @Override
    public void close() {
        try {
            requests.close();
        } catch (IOException ignored) {
            // the worker is being killed anyway
        }
        process.kill();
    }

    private void readReplies() {
        try (InputStream in = new BufferedInputStream(process.stdout())) {
            var line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    if (line.size() >= maxLineBytes) {
                        messages.add(new WorkerMessage.Broken("a reply longer than " + maxLineBytes + " bytes"));
                        return;
                    }
                    line.write(b);
                    continue;
                }
                messages.add(parse(line.toString(StandardCharsets.UTF_8)));
                line.reset();
            }
        } catch (IOException ignored) {
            // the process went away
        }
        int code;
        String stderr;
        try {
            code = process.waitFor();
            stderr = process.stderrToEnd();
        } catch (InterruptedException e) {
            code = -1;
            stderr = process.stderr();
        }
        messages.add(new WorkerMessage.Ended(code, stderr));
    }

    private static WorkerMessage parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            return new WorkerMessage.Broken("a reply that is not JSON: " + abbreviate(line));
        }
        if (node == null || !node.isObject()) {
            return new WorkerMessage.Broken("a reply that is not a JSON object: " + abbreviate(line));
        }
        if (node.path("ready").asBoolean(false)) {
            return new WorkerMessage.Ready(node.path("python").asText(), node.path("files"));
        }
        return new WorkerMessage.Reply(node);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }
}
