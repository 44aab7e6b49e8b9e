package io.github.chatglm4j.agent.interpreter;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxLimits;
import io.github.chatglm4j.agent.testing.Sandboxes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Code that tries to get out of the sandbox or to exhaust the host: each attempt fails inside, with an error the
 * model can read, and the host is untouched.
 */
class SandboxEscapeTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path temp;
    CodeInterpreter python;

    @AfterEach
    void tearDown() {
        if (python != null) {
            python.close();
        }
    }

    private CodeInterpreter start(SandboxLimits limits, InterpreterOptions options) throws InterruptedException {
        Sandbox sandbox = Sandboxes.open(SandboxConfig.DEFAULTS.withLimits(limits));
        python = CodeInterpreter.start(sandbox, Sandboxes.dataDir(temp), options);
        return python;
    }

    private CodeInterpreter start() throws InterruptedException {
        return start(SandboxLimits.DEFAULTS, InterpreterOptions.DEFAULTS);
    }

    @Test
    void thereIsNoNetworkNotEvenToTheHostsLoopback() throws Exception {
        start();
        try (ServerSocketChannel host = ServerSocketChannel.open()) {
            host.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            host.configureBlocking(false);
            int port = ((InetSocketAddress) host.getLocalAddress()).getPort();

            CellResult r = python.run("import socket\nsocket.create_connection(('127.0.0.1', " + port + "), timeout=10)");

            assertThat(r.error()).as("the sandbox's own loopback has no listener").endsWith("ConnectionRefusedError: [Errno 111] Connection refused\n");
            assertThat(host.accept()).as("no connection reached the host's listener").isNull();
        }
        assertThat(python.run("import socket\nsocket.if_nameindex()").text()).as("its own loopback is the only interface")
                .isEqualTo("[(1, 'lo')]\n");
    }

    @Test
    void namesCannotBeResolvedBecauseNoResolverIsReachable() throws InterruptedException {
        start();

        CellResult r = python.run("import socket\nsocket.getaddrinfo('chatglm4j-sandbox-test.invalid', 80)");

        // EAI_AGAIN: no resolver could be asked (a reachable resolver would have answered "Name or service not known")
        assertThat(r.error()).endsWith("socket.gaierror: [Errno -3] Temporary failure in name resolution\n");
    }

    @Test
    void secretsHomeAndTheProjectCheckoutAreNotVisible() throws InterruptedException {
        start();
        String home = System.getProperty("user.home");
        String checkout = Path.of("").toAbsolutePath().toString();

        for (String path : List.of("/etc/shadow", "/etc/passwd", "/root/.bashrc", home, checkout, "/work", "/home")) {
            CellResult r = python.run("import os\nos.stat(" + pyString(path) + ")");
            assertThat(r.error()).as(path).contains("FileNotFoundError");
        }
        var top = new ArrayList<>(List.of("dev", "etc", "mnt", "opt", "proc", "tmp", "usr"));
        for (String dir : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
            if (Files.exists(Path.of("/", dir))) {
                top.add(dir); // the loader's directories, linked or bound as on the host
            }
        }
        top.sort(null);
        assertThat(python.run("import os\nsorted(os.listdir('/'))").text())
                .isEqualTo(top.stream().map(d -> "'" + d + "'").toList().toString() + "\n");
        assertThat(python.run("import os\nsorted(os.listdir('/etc'))").text())
                .isEqualTo("['alternatives', 'fonts', 'ld.so.cache', 'localtime', 'matplotlibrc']\n");
    }

    @Test
    void processOneIsTheSandboxesInitAndItsEnvironmentHoldsNothingOfTheJvms() throws InterruptedException {
        start();

        CellResult r = python.run("open('/proc/1/environ', 'rb').read().split(b'\\0')");
        CellResult pids = python.run("import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())");
        CellResult env = python.run("import os\nsorted(os.environ)");

        assertThat(r.text()).isEqualTo("[b'PATH=/usr/bin:/bin', b'']\n");
        assertThat(pids.text()).as("only the sandbox's init and Python").isEqualTo("[1, 2]\n");
        assertThat(env.text()).as("what BubblewrapCommand sets, and the working directory")
                .isEqualTo("['HOME', 'LANG', 'MPLBACKEND', 'MPLCONFIGDIR', 'OMP_NUM_THREADS', "
                        + "'OPENBLAS_NUM_THREADS', 'PATH', 'PWD', 'TMPDIR', 'XDG_CACHE_HOME']\n");
    }

    @Test
    void nothingOutsideMntDataCanBeWrittenAndTmpIsPrivate() throws InterruptedException {
        start();
        String marker = "chatglm4j-escape-" + UUID.randomUUID();

        for (String path : List.of("/etc/" + marker, "/usr/" + marker, "/" + marker, "/opt/chatglm4j/" + marker,
                "/dev/" + marker, "/proc/" + marker)) {
            CellResult r = python.run("open(" + pyString(path) + ", 'w').write('x')");
            assertThat(r.error()).as(path).containsAnyOf("Read-only file system", "No such file or directory", "Permission denied");
        }
        CellResult tmp = python.run("open('/tmp/" + marker + "', 'w').write('x')");

        assertThat(tmp.error()).as("the sandbox has a /tmp of its own").isNull();
        assertThat(Path.of(System.getProperty("java.io.tmpdir"), marker)).doesNotExist();
        assertThat(Path.of("/tmp", marker)).doesNotExist();
        assertThat(python.run("open('/tmp/big', 'wb').write(b'0' * (200 * 1024 * 1024))").error())
                .as("/tmp is bounded").contains("No space left on device");
    }

    @Test
    void signalsCannotReachHostProcessesOfTheSameUser() throws Exception {
        start();
        // a host process of the user the sandbox runs as: nobody when the JVM is root, else the JVM's own user
        List<String> victimCommand = new ArrayList<>();
        if (isRoot()) {
            victimCommand.addAll(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
        }
        victimCommand.addAll(List.of("/bin/sleep", "600"));
        Process victim = new ProcessBuilder(victimCommand).start();
        try {
            CellResult r = python.run("import os, signal\n"
                    + "for pid in (-1, 1, " + victim.pid() + "):\n" // everyone this user may signal, the sandbox's init, the victim
                    + "    try:\n"
                    + "        os.kill(pid, signal.SIGKILL)\n"
                    + "        print(pid, 'sent')\n"
                    + "    except ProcessLookupError as e:\n"
                    + "        print(pid, e)");

            assertThat(r.error()).isNull();
            assertThat(r.text()).as("init accepts the signal and ignores it; nothing else is visible")
                    .isEqualTo("-1 [Errno 3] No such process\n1 sent\n" + victim.pid() + " [Errno 3] No such process\n");
            assertThat(victim.isAlive()).isTrue();
            assertThat(python.run("'still running'").restarted()).isFalse();
        } finally {
            victim.destroyForcibly();
        }
    }

    @Test
    void aForkBombStopsAtTheProcessLimitAndLeavesNothingRunning() throws Exception {
        start();
        SandboxLimits l = SandboxLimits.DEFAULTS;

        CellResult r = python.run("import os\nwhile True:\n    os.fork()");

        assertThat(r.error()).endsWith("BlockingIOError: [Errno 11] Resource temporarily unavailable\n");
        assertThat(r.restarted()).isFalse();
        List<ProcessHandle> all = python.process().processes();
        for (ProcessHandle p : all.subList(3, all.size())) { // past bwrap, init and Python: killed, being reaped by init
            p.onExit().get(30, TimeUnit.SECONDS);
        }
        assertThat(python.process().processes()).as("bwrap, init and the worker; the limit was %d", l.processes()).hasSize(3);
        assertThat(python.run("import subprocess\nsubprocess.run(['true']).returncode").text())
                .as("the process limit is free again").isEqualTo("0\n");
    }

    @Test
    void allocatingTenGigabytesFailsWithMemoryErrorAndTheWorkerLives() throws InterruptedException {
        start();
        python.run("kept = 1");

        assertThat(python.run("big = bytearray(10 * 1024 ** 3)").error()).endsWith("MemoryError\n");
        assertThat(python.run("import numpy as np\nnp.ones((10 * 1024 ** 3) // 8)").error())
                .contains("numpy.core._exceptions._ArrayMemoryError: Unable to allocate 10.0 GiB");
        assertThat(python.run("kept").text()).isEqualTo("1\n");
    }

    @Test
    void printingAHundredMegabytesKeepsOnlyTheOutputLimit() throws InterruptedException {
        start();
        int limit = InterpreterOptions.DEFAULTS.outputLimit();

        CellResult big = python.run("print('x' * 100_000_000)");

        assertThat(big.text()).hasSize(limit);
        assertThat(big.dropped()).isEqualTo(100_000_001L - limit);
    }

    @Test
    void anEndlessPrintLoopIsCappedAndInterrupted() throws InterruptedException {
        start(SandboxLimits.DEFAULTS, InterpreterOptions.DEFAULTS.withCellTimeout(Duration.ofSeconds(2)));
        int limit = InterpreterOptions.DEFAULTS.outputLimit();

        CellResult endless = python.run("while True:\n    print('spam')");

        assertThat(endless.timedOut()).isTrue();
        assertThat(endless.restarted()).isFalse();
        assertThat(endless.text()).hasSize(limit).startsWith("spam\nspam\n");
    }

    @Test
    void theCpuTimeLimitEndsABusyWorkerBeforeTheWallClockTimeout() throws InterruptedException {
        start(SandboxLimits.DEFAULTS.withCpuSeconds(1), InterpreterOptions.DEFAULTS.withCellTimeout(Duration.ofSeconds(120)));

        CellResult r = python.run("while True:\n    pass");

        assertThat(r.timedOut()).isFalse();
        assertThat(r.restarted()).isTrue();
        assertThat(r.note()).startsWith("The Python worker used up its CPU time (1 s): the Python worker was restarted");
    }

    @Test
    void filesLargerThanTheLimitCannotBeWritten() throws InterruptedException, IOException {
        start(SandboxLimits.DEFAULTS.withFileSizeBytes(MIB), InterpreterOptions.DEFAULTS);

        CellResult r = python.run("open('/mnt/data/big.bin', 'wb').write(b'0' * (2 * 1024 * 1024))");

        assertThat(r.error()).endsWith("OSError: [Errno 27] File too large\n");
        assertThat(Files.size(python.dataDir().resolve("big.bin"))).isLessThanOrEqualTo(MIB);
    }

    @Test
    void openingThousandsOfFilesHitsTheOpenFileLimit() throws InterruptedException {
        start();

        CellResult r = python.run("handles = [open('/dev/null') for _ in range(100_000)]");

        assertThat(r.error()).endsWith("OSError: [Errno 24] Too many open files: '/dev/null'\n");
        assertThat(python.run("'fine'").text()).isEqualTo("'fine'\n");
    }

    @Test
    void aForgedReplyOnTheDriversChannelCannotBreakTheJvmSide() throws InterruptedException {
        start();

        CellResult r = python.run("import sys\ndriver = sys._getframe(1)\n"
                + "driver.f_globals['_replies'].write(('{\"id\": %d, \"text\": 7, \"images\": [\"not base64!\"]}\\n'"
                + " % driver.f_locals['cell_id']).encode())\ndriver.f_globals['_replies'].flush()");

        assertThat(r.restarted()).isTrue();
        assertThat(r.note()).startsWith("The Python worker sent a reply that could not be read (");
        assertThat(python.run("1 + 1").text()).isEqualTo("2\n");
    }

    private static boolean isRoot() throws IOException {
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    }

    private static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
