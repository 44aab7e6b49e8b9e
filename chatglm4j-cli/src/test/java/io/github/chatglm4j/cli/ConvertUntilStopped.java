package io.github.chatglm4j.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code chatglm convert} in a child process that stops at a known point: when the GGUF's temporary file has been
 * created and the "writing" progress starts, it says so on stdout and waits there until it is signalled. A test can
 * then stop it exactly while the temporary file exists, without racing the conversion.
 */
final class ConvertUntilStopped {
    static final String MARK = "temporary file created";

    private ConvertUntilStopped() {
    }

    public static void main(String[] args) {
        PrintStream stdout = System.out;
        PrintStream err = new PrintStream(new OutputStream() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public void write(int b) {
                System.err.write(b);
                line.append((char) b);
                if (b == '\n') {
                    if (line.toString().startsWith("writing:")) {
                        stdout.println(MARK);
                        stdout.flush();
                        while (true) {
                            LockSupport.park(); // until SIGTERM / SIGINT ends the JVM
                        }
                    }
                    line.setLength(0);
                }
            }
        }, true, StandardCharsets.UTF_8);
        System.exit(Main.run(args, Io.plain(InputStream.nullInputStream(), stdout, err)));
    }
}
