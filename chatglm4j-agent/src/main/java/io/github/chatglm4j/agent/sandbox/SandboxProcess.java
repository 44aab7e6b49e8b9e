package io.github.chatglm4j.agent.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A program running in the sandbox: its stdin and stdout, and a capped copy of its stderr (read continuously, so the
 * program never blocks on it). The JVM's child is bubblewrap; bubblewrap's child is the sandbox's init (pid 1 inside),
 * whose child is the program (pid 2 inside, leader of its own session and process group).
 */
public final class SandboxProcess implements AutoCloseable {
    private static final int STDERR_LIMIT = 16 * 1024;
    /** How long to wait for killed processes to be reaped; they die at once unless the machine is in trouble. */
    private static final long REAP_SECONDS = 30;

    private final Process bwrap;
    private final CappedText stderr;
    private volatile ProcessHandle program;

    SandboxProcess(Process bwrap) {
        this.bwrap = bwrap;
        this.stderr = CappedText.read(bwrap.getErrorStream(), STDERR_LIMIT, "sandbox-stderr-" + bwrap.pid());
    }

    public OutputStream stdin() {
        return bwrap.getOutputStream();
    }

    public InputStream stdout() {
        return bwrap.getInputStream();
    }

    /** The start of what the sandbox wrote to stderr so far (bubblewrap's own errors come first). */
    public String stderr() {
        return stderr.text();
    }

    /** All of the kept stderr, once the stream has ended (call after the process has exited). */
    public String stderrToEnd() throws InterruptedException {
        return stderr.awaitEnd().text();
    }

    public boolean isAlive() {
        return bwrap.isAlive();
    }

    /**
     * Waits for the sandbox to end and returns bubblewrap's exit code: the program's, or 128 + the signal that killed it.
     */
    public int waitFor() throws InterruptedException {
        return bwrap.waitFor();
    }

    /** Waits at most {@code millis}; true if the sandbox has ended. */
    public boolean waitFor(long millis) throws InterruptedException {
        return bwrap.waitFor(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Sends SIGINT to the program's process group (the program and what it forked), as Ctrl-C in a terminal would.
     * Returns false if the program is not running.
     */
    public boolean interrupt() {
        Optional<ProcessHandle> p = program();
        if (p.isEmpty() || !p.get().isAlive()) {
            return false;
        }
        // bubblewrap's --new-session makes the sandbox's init the session and group leader; its init ignores SIGINT
        // from outside (a namespace init without a handler), so the group signal reaches the program and its children.
        long group = processGroup(p.get().pid());
        if (group <= 0) {
            return false;
        }
        // The JDK can send SIGTERM and SIGKILL only; kill(1) sends the rest. The negative pid names the process group.
        try {
            Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -s INT -- -\"$1\"", "sh", String.valueOf(group))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return kill.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The process group of {@code pid}: the fifth field of /proc/PID/stat (after the parenthesised name), or -1. */
    static long processGroup(long pid) {
        try {
            String stat = SandboxCheck.procText(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[2]); // state, ppid, pgrp
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Kills bubblewrap and every process in the sandbox with SIGKILL and waits until they are gone. */
    public void kill() {
        List<ProcessHandle> all = processes();
        for (ProcessHandle h : all) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(REAP_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                // a process stuck in the kernel: nothing more to do from here
            }
        }
    }

    /** bubblewrap and every process below it, the sandbox's own included. */
    public List<ProcessHandle> processes() {
        var all = new ArrayList<ProcessHandle>();
        all.add(bwrap.toHandle());
        bwrap.descendants().forEach(all::add);
        return all;
    }

    /** The sandboxed program (the oldest process under the sandbox's init), found once it runs. */
    public Optional<ProcessHandle> program() {
        ProcessHandle p = program;
        if (p == null) {
            p = bwrap.children().findFirst()
                    .flatMap(init -> init.children().min(Comparator.comparing(
                            (ProcessHandle h) -> h.info().startInstant().orElse(java.time.Instant.MAX))))
                    .orElse(null);
            program = p;
        }
        return Optional.ofNullable(p);
    }

    @Override
    public void close() {
        kill();
    }
}
