package io.github.chatglm4j.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The streams a command talks to, and what they are connected to. Tests pass their own streams (never terminals);
 * {@link #system()} describes the real process. Text is UTF-8 on every stream regardless of the locale: a C/POSIX
 * locale would otherwise turn every Chinese character into '?'.
 *
 * @param in              standard input
 * @param out             standard output
 * @param err             standard error
 * @param interactive     stdin and stdout are both a terminal: chat uses JLine line editing and may use ANSI
 * @param stderrTerminal  stderr is a terminal: progress bars are drawn, statistics are dimmed
 * @param terminalColumns width for progress bars (80 when unknown)
 * @param env             environment variables (HF_ENDPOINT, HF_HUB_CACHE, ...); tests pass their own
 */
record Io(InputStream in, PrintStream out, PrintStream err, boolean interactive, boolean stderrTerminal,
          int terminalColumns, Map<String, String> env) {

    /** Streams with the process's environment. */
    Io(InputStream in, PrintStream out, PrintStream err, boolean interactive, boolean stderrTerminal, int terminalColumns) {
        this(in, out, err, interactive, stderrTerminal, terminalColumns, System.getenv());
    }

    /** The same streams with another environment. */
    Io withEnv(Map<String, String> variables) {
        return new Io(in, out, err, interactive, stderrTerminal, terminalColumns, Map.copyOf(variables));
    }

    /** Streams that are not terminals, e.g. for tests and pipes. */
    static Io plain(InputStream in, PrintStream out, PrintStream err) {
        return new Io(in, out, err, false, false, 80);
    }

    /** The process's own standard streams. */
    static Io system() {
        TerminalProbe probe = TerminalProbe.detect();
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 14),
                false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        return new Io(System.in, out, err, probe.stdin() && probe.stdout(), probe.stderr(), probe.columns());
    }
}
