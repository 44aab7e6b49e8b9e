package io.github.chatglm4j.cli;

import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Which standard streams are terminals ({@code isatty}), through JLine's native provider.
 *
 * <p>The launcher filters the JVM's "Using incubator modules" warning out of fd 2 with a pipe, which would hide the
 * terminal from us and delay every message. It passes the real stderr as another fd ({@code chatglm.stderr.fd});
 * {@link #restoreStderr()} moves it back onto fd 2 before anything is printed, which also ends the filter.
 */
record TerminalProbe(boolean stdin, boolean stdout, boolean stderr, int columns) {
    private static final int DEFAULT_COLUMNS = 80;

    static TerminalProbe detect() {
        TerminalProvider provider = provider();
        if (provider == null) {
            boolean console = System.console() != null && System.console().isTerminal();
            return new TerminalProbe(console, console, false, DEFAULT_COLUMNS);
        }
        boolean in = is(provider, SystemStream.Input);
        boolean out = is(provider, SystemStream.Output);
        boolean err = is(provider, SystemStream.Error);
        int columns = 0;
        for (SystemStream s : new SystemStream[]{SystemStream.Error, SystemStream.Output}) {
            if (columns <= 0 && is(provider, s)) {
                try {
                    columns = provider.systemStreamWidth(s);
                } catch (RuntimeException ignored) {
                    // some terminals report no size; the default is fine
                }
            }
        }
        return new TerminalProbe(in, out, err, columns > 0 ? columns : DEFAULT_COLUMNS);
    }

    private static TerminalProvider provider() {
        for (String name : new String[]{"ffm", "exec"}) {
            try {
                return TerminalProvider.load(name);
            } catch (Exception | LinkageError ignored) {
                // try the next provider; without any, nothing is treated as a terminal
            }
        }
        return null;
    }

    private static boolean is(TerminalProvider provider, SystemStream stream) {
        try {
            return provider.isSystemStream(stream);
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Puts the launcher's saved stderr back on fd 2 (see the class comment). Does nothing when not launched so. */
    @SuppressWarnings("restricted") // only used under the launcher, which enables native access
    static void restoreStderr() {
        String fd = System.getProperty("chatglm.stderr.fd");
        if (fd == null) {
            return;
        }
        try {
            int saved = Integer.parseInt(fd);
            Linker linker = Linker.nativeLinker();
            var intInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            MethodHandle dup2 = linker.downcallHandle(linker.defaultLookup().findOrThrow("dup2"), intInt);
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().findOrThrow("close"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            System.err.flush();
            if ((int) dup2.invokeExact(saved, 2) == 2) {
                int ignored = (int) close.invokeExact(saved);
            }
        } catch (Throwable ignored) {
            // keep the filtered stderr: messages still arrive, only later and without a progress bar
        }
    }
}
