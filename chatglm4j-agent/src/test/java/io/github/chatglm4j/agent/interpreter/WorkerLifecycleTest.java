package io.github.chatglm4j.agent.interpreter;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.testing.Sandboxes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Timeouts, interrupts, cancels and dead workers: each is reported, and the next cell runs. */
class WorkerLifecycleTest {
    /** Short enough to wait for, long enough that an ordinary cell on a busy machine never reaches it. */
    private static final InterpreterOptions QUICK = InterpreterOptions.DEFAULTS
            .withCellTimeout(Duration.ofSeconds(2)).withInterruptGrace(Duration.ofSeconds(5));

    @TempDir
    Path temp;
    Sandbox sandbox;
    Path data;
    CodeInterpreter python;

    @BeforeEach
    void setUp() {
        sandbox = Sandboxes.open();
        data = Sandboxes.dataDir(temp);
    }

    @AfterEach
    void tearDown() {
        if (python != null) {
            python.close();
        }
    }

    @Test
    void aCellThatSleepsPastTheTimeoutIsInterruptedAndTheVariablesAreKept() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);
        python.run("kept = 'still here'");

        CellResult r = python.run("import time\nprint('going to sleep')\ntime.sleep(600)");

        assertThat(r.timedOut()).isTrue();
        assertThat(r.restarted()).isFalse();
        assertThat(r.text()).isEqualTo("going to sleep\n");
        assertThat(r.error()).as("the driver's interrupt handler is not part of the cell's traceback")
                .isEqualTo("Traceback (most recent call last):\n  File \"<cell-2>\", line 3, in <module>\n"
                        + "    time.sleep(600)\nKeyboardInterrupt\n");
        assertThat(r.note()).isEqualTo("Timed out after 2 s: the cell was interrupted (variables and files are kept).");
        assertThat(python.run("kept").text()).isEqualTo("'still here'\n");
    }

    @Test
    void aBusyLoopIsInterruptedToo() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);

        CellResult r = python.run("n = 0\nwhile True:\n    n += 1");

        assertThat(r.timedOut()).isTrue();
        assertThat(r.restarted()).isFalse();
        assertThat(python.run("n > 0").text()).isEqualTo("True\n");
    }

    @Test
    void aCellThatIgnoresTheInterruptIsKilledAndTheWorkerRestartsWithoutItsVariables() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);
        python.run("lost = 1\nopen('/mnt/data/kept.txt', 'w').write('x')");

        CellResult r = python.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass");

        assertThat(r.timedOut()).isTrue();
        assertThat(r.restarted()).isTrue();
        assertThat(r.note()).isEqualTo("Timed out after 2 s, and the cell did not stop when interrupted: the Python "
                + "worker was restarted, so variables and imports are lost (files in /mnt/data are kept).");
        assertThat(python.run("lost").error()).endsWith("NameError: name 'lost' is not defined\n");
        assertThat(python.run("open('/mnt/data/kept.txt').read()").text()).isEqualTo("'x'\n");
    }

    @Test
    void aCancelInterruptsTheRunningCellAndKeepsTheState() throws Exception {
        python = CodeInterpreter.start(sandbox, data, InterpreterOptions.DEFAULTS); // 30 s: the cancel, not the timeout, ends it
        python.run("kept = 7");
        var cancel = new Cancellation();
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            data.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            Future<CellResult> cell = CompletableFuture.supplyAsync(() -> {
                try {
                    return python.run("import time\nopen('/mnt/data/started', 'w').close()\ntime.sleep(600)", cancel);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitCreated(watch, "started");
            cancel.cancel();

            CellResult r = cell.get(60, TimeUnit.SECONDS);
            assertThat(r.cancelled()).isTrue();
            assertThat(r.timedOut()).isFalse();
            assertThat(r.restarted()).isFalse();
            assertThat(r.error()).endsWith("KeyboardInterrupt\n");
        }
        assertThat(python.run("kept").text()).isEqualTo("7\n");
        assertThat(python.run("'a stale cancel does not touch later cells'").error()).isNull();
    }

    @Test
    void aCellCancelledBeforeItStartsDoesNotRun() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);
        var cancel = new Cancellation();
        cancel.cancel();

        CellResult r = python.run("ran = True", cancel);

        assertThat(r.cancelled()).isTrue();
        assertThat(python.run("ran").error()).contains("NameError");
    }

    @Test
    void processesACellStartsEndWithTheCell() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);

        python.run("import subprocess, os\nbackground = subprocess.Popen(['sleep', '600'])\n"
                + "if os.fork() == 0:\n    os.execv('/bin/sleep', ['sleep', '600'])");

        assertThat(python.run("import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())").text())
                .as("only the sandbox's init and the worker").isEqualTo("[1, 2]\n");
    }

    @Test
    void killingTheJvmsChildLeavesNoProcessBehindAndTheNextCellGetsANewWorker() throws Exception {
        python = CodeInterpreter.start(sandbox, data, InterpreterOptions.DEFAULTS);
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            data.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            Future<CellResult> cell = CompletableFuture.supplyAsync(() -> {
                try {
                    return python.run("import subprocess, os, time\nbackground = subprocess.Popen(['sleep', '600'])\n"
                            + "if os.fork() == 0:\n    os.execv('/bin/sleep', ['sleep', '600'])\n"
                            + "open('/mnt/data/started', 'w').close()\ntime.sleep(600)");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitCreated(watch, "started");
            List<ProcessHandle> processes = python.process().processes();
            assertThat(processes).as("bwrap, the sandbox's init, Python and two sleeps").hasSize(5);

            assertThat(processes.getFirst().destroyForcibly()).as("SIGKILL to bwrap, the JVM's child").isTrue();

            for (ProcessHandle p : processes) {
                p.onExit().get(30, TimeUnit.SECONDS);
            }
            assertThat(processes).noneMatch(ProcessHandle::isAlive);
            CellResult r = cell.get(60, TimeUnit.SECONDS);
            assertThat(r.restarted()).isTrue();
            assertThat(r.note()).startsWith("The Python worker was killed (SIGKILL): the Python worker was restarted");
        }
        assertThat(python.run("1 + 1").text()).isEqualTo("2\n");
    }

    @Test
    void aWorkerThatExitsIsReplaced() throws InterruptedException {
        python = CodeInterpreter.start(sandbox, data, QUICK);

        CellResult r = python.run("import os\nos._exit(7)");

        assertThat(r.restarted()).isTrue();
        assertThat(r.note()).startsWith("The Python worker exited with code 7: ");
        assertThat(python.run("'alive'").text()).isEqualTo("'alive'\n");
    }

    @Test
    void theWorkerOutlivesTheThreadThatStartedIt() throws Exception {
        // bubblewrap's --die-with-parent follows the starting thread: a worker started from a thread that then ends
        // must not be killed with it
        var started = new CompletableFuture<CodeInterpreter>();
        Thread starter = Thread.ofPlatform().start(() -> {
            try {
                started.complete(CodeInterpreter.start(sandbox, data, QUICK));
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        starter.join();
        python = started.get();

        CellResult r = python.run("'alive'");

        assertThat(r.restarted()).as("%s", r.note()).isFalse();
        assertThat(r.text()).isEqualTo("'alive'\n");
    }

    private static void awaitCreated(WatchService watch, String name) throws InterruptedException {
        while (true) {
            WatchKey key = watch.poll(60, TimeUnit.SECONDS);
            assertThat(key).as("the cell created " + name).isNotNull();
            boolean found = key.pollEvents().stream().anyMatch(e -> e.context().toString().equals(name));
            key.reset();
            if (found) {
                return;
            }
        }
    }
}
