package io.github.chatglm4j.agent.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs programs in a bubblewrap sandbox: no network, read-only system, private /tmp, /dev and /proc, a new PID
 * namespace, no capabilities, a cleared environment, resource limits, and one host folder bound read-write at
 * {@code /mnt/data}. Where the sandbox cannot be created, {@link #open} says why and how to fix it; nothing is ever
 * run unsandboxed instead.
 *
 * <pre>{@code
 * Sandbox sandbox = Sandbox.open(SandboxConfig.DEFAULTS);   // SandboxUnavailableException: why, and the fix
 * ShellResult r = sandbox.runShell(Path.of("/tmp/conversation"), "ls -la /mnt/data", Duration.ofSeconds(30), 65536);
 * }</pre>
 */
public final class Sandbox {
    private final SandboxConfig config;
    private final boolean dropRoot;

    Sandbox(SandboxConfig config, boolean dropRoot) {
        this.config = Objects.requireNonNull(config, "config");
        this.dropRoot = dropRoot;
    }

    /**
     * Checks that the sandbox works on this machine (the programs are there, user namespaces are allowed, a sandbox
     * starts) and returns it.
     *
     * @throws SandboxUnavailableException with the first problem found and how to fix it
     */
    public static Sandbox open(SandboxConfig config) {
        SandboxCheck.Report report = SandboxCheck.run(config, SandboxCheck.PROC_SYS, false);
        if (!report.ok()) {
            throw new SandboxUnavailableException(report.summary());
        }
        return new Sandbox(config, SandboxUser.jvmIsRoot());
    }

    public SandboxConfig config() {
        return config;
    }

    /** True when the JVM runs as root and the sandbox therefore as {@code nobody} (uid 65534) on the host. */
    public boolean runsAsNobody() {
        return dropRoot;
    }

    /**
     * Starts {@code command} (paths as seen inside) with {@code dataDir} at {@code /mnt/data} and the given host paths
     * read-only. The folders are prepared for the sandbox user first (see {@link #prepareDataDir}).
     */
    public SandboxProcess start(Path dataDir, Map<Path, String> readOnlyBinds, List<String> command) throws IOException {
        prepareDataDir(dataDir);
        for (Path p : readOnlyBinds.keySet()) {
            SandboxUser.prepare(p, dropRoot, false);
        }
        List<String> argv = BubblewrapCommand.build(config, dropRoot, dataDir.toAbsolutePath(), readOnlyBinds, command);
        var builder = new ProcessBuilder(argv);
        // bubblewrap's own init stays visible in /proc/1 inside, so it must not carry the JVM's environment either
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        return new SandboxProcess(ProcessLauncher.start(builder));
    }

    /**
     * Creates {@code dataDir} if needed; when the sandbox runs as {@code nobody}, gives it to that user if root owns
     * it and checks that its parents can be searched.
     *
     * @throws SandboxUnavailableException when the sandbox user cannot reach the folder, saying what to change
     */
    public void prepareDataDir(Path dataDir) {
        SandboxUser.prepare(dataDir, dropRoot, true);
    }

    /**
     * Reads a file as the sandboxed code sees it, with {@code cat} in a one-off sandbox: whatever links the code
     * made, nothing outside the sandbox's view can be read this way.
     *
     * @param sandboxPath an absolute path inside, e.g. {@code /mnt/data/result.csv}
     * @throws IOException if it cannot be read (the message is cat's) or is larger than {@code maxBytes}
     */
    public byte[] readFile(Path dataDir, String sandboxPath, int maxBytes) throws IOException, InterruptedException {
        SandboxProcess p = start(dataDir, Map.of(), List.of("/bin/cat", "--", sandboxPath));
        p.stdin().close();
        CappedText out = CappedText.read(p.stdout(), maxBytes, "sandbox-read");
        int code;
        String err;
        try {
            code = p.waitFor();
            out.awaitEnd();
            err = p.stderrToEnd();
        } catch (InterruptedException e) {
            p.kill();
            throw e;
        }
        if (code != 0) {
            throw new IOException(SandboxCheck.firstLine(err).replace("/bin/cat: ", ""));
        }
        if (out.dropped() > 0) {
            throw new IOException(sandboxPath + " is larger than " + maxBytes + " bytes");
        }
        return out.bytes();
    }

    /**
     * Runs {@code /bin/sh -c command} in the sandbox, with no input. Kills it at the timeout.
     *
     * @param outputLimit the most bytes kept of stdout and of stderr each
     * @throws InterruptedException if this thread is interrupted; the command is killed first
     */
    public ShellResult runShell(Path dataDir, String command, Duration timeout, int outputLimit)
            throws IOException, InterruptedException {
        SandboxProcess p = start(dataDir, Map.of(), List.of("/bin/sh", "-c", command));
        p.stdin().close();
        CappedText out = CappedText.read(p.stdout(), outputLimit, "sandbox-shell-stdout");
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis());
        } catch (InterruptedException e) {
            p.kill();
            throw e;
        }
        if (!finished) {
            p.kill();
        }
        out.awaitEnd();
        String err = p.stderrToEnd(); // the reader may still hold the last bytes after the process has exited
        if (err.length() > outputLimit) {
            err = err.substring(0, outputLimit);
        }
        return new ShellResult(finished ? p.waitFor() : -1, out.text(), err, out.dropped(), !finished);
    }
}
