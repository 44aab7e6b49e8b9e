package io.github.chatglm4j.agent.interpreter;

import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxProcess;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Prints what the code interpreter costs on this machine: worker start (bwrap + Python + driver ready), the round
 * trip of the cell {@code 1+1}, and the resident memory of an idle worker, bare and after importing numpy, pandas and
 * matplotlib. Not a test (numbers, no assertions); run it as docs/agent.md shows.
 */
public final class InterpreterBench {
    private InterpreterBench() {
    }

    public static void main(String[] args) throws Exception {
        int starts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int cells = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        Sandbox sandbox = Sandbox.open(SandboxConfig.DEFAULTS);
        Path temp = Files.createTempDirectory("chatglm4j-bench-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        Path data = temp.resolve("data");

        var startMillis = new ArrayList<Double>();
        for (int i = 0; i < starts + 2; i++) {
            long t0 = System.nanoTime();
            try (CodeInterpreter _ = CodeInterpreter.start(sandbox, data, InterpreterOptions.DEFAULTS)) {
                if (i >= 2) { // two warm-ups: the JIT and the page cache
                    startMillis.add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        try (CodeInterpreter python = CodeInterpreter.start(sandbox, data, InterpreterOptions.DEFAULTS)) {
            var trip = new ArrayList<Double>();
            for (int i = 0; i < cells + 50; i++) {
                long t0 = System.nanoTime();
                CellResult r = python.run("1+1");
                double ms = (System.nanoTime() - t0) / 1e6;
                if (!r.text().equals("2\n")) {
                    throw new IllegalStateException("unexpected output: " + r);
                }
                if (i >= 50) {
                    trip.add(ms);
                }
            }
            long bare = rssKiB(python.process());
            long tImport = System.nanoTime();
            python.run("import numpy, pandas, matplotlib.pyplot");
            double importMs = (System.nanoTime() - tImport) / 1e6;
            long loaded = rssKiB(python.process());
            String cpu = cpuFlags();
            System.out.printf(Locale.ROOT, "machine: %d processors, %s, flags %s%n", Runtime.getRuntime().availableProcessors(),
                    System.getProperty("os.name") + " " + System.getProperty("os.arch"), cpu);
            System.out.printf(Locale.ROOT, "worker start (bwrap + python3 + driver ready): median %.1f ms, p90 %.1f ms (%d starts)%n",
                    percentile(startMillis, 50), percentile(startMillis, 90), startMillis.size());
            System.out.printf(Locale.ROOT, "cell round trip of 1+1: median %.2f ms, p90 %.2f ms (%d cells)%n",
                    percentile(trip, 50), percentile(trip, 90), trip.size());
            System.out.printf(Locale.ROOT, "idle worker RSS (bwrap, init, python3): %d KiB bare, %d KiB after importing "
                    + "numpy, pandas, matplotlib.pyplot (%.0f ms, font cache included)%n", bare, loaded, importMs);
        }
    }

    private static double percentile(List<Double> values, int p) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v[Math.min(v.length - 1, (int) Math.ceil(p / 100.0 * v.length) - 1)];
    }

    /** VmRSS of every process of the sandbox. */
    private static long rssKiB(SandboxProcess sandbox) throws IOException {
        long total = 0;
        for (ProcessHandle h : sandbox.processes()) {
            try (InputStream in = Files.newInputStream(Path.of("/proc", String.valueOf(h.pid()), "status"))) {
                for (String line : new String(in.readAllBytes()).split("\n")) {
                    if (line.startsWith("VmRSS:")) {
                        total += Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            }
        }
        return total;
    }

    private static String cpuFlags() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("/proc/cpuinfo"))) {
            String info = new String(in.readAllBytes());
            return Arrays.stream(new String[]{"avx2", "avx512f"}).filter(f -> info.matches("(?s).*\\b" + f + "\\b.*"))
                    .reduce((a, b) -> a + " " + b).orElse("none of avx2/avx512f");
        }
    }
}
