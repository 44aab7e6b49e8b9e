package io.github.chatglm4j.cli;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.InfoCmp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Where the chat reads lines and writes replies: a JLine terminal with line editing and history, or plain streams
 * (a script, a pipe, a test) where nothing but text is written.
 */
sealed interface ChatConsole extends AutoCloseable {

    /** Reads one line after showing {@code prompt}; null at end of input. */
    String readLine(String prompt);

    /** Where replies go. */
    PrintWriter out();

    /** ANSI styling for prompts and notes; identity on plain streams. */
    Style style();

    /** Clears the screen where there is one. */
    void clearScreen();

    /** Calls {@code handler} on Ctrl-C while a reply is generated (terminals only). */
    void onInterrupt(Runnable handler);

    /**
     * Marks the time a reply is streamed: keys typed meanwhile are not echoed into the reply (they are kept for
     * the next prompt), nor is Ctrl-C as "^C". Closing the result ends it.
     */
    Replying replying();

    /** The end of a reply. */
    interface Replying extends AutoCloseable {
        @Override
        void close();
    }

    @Override
    void close();

    static ChatConsole open(Io io) {
        return io.interactive() ? JLineConsole.open() : new PlainConsole(io);
    }

    /** Plain input: the prompt and the line read are echoed, so stdout reads as a transcript. */
    final class PlainConsole implements ChatConsole {
        private final BufferedReader in;
        private final PrintWriter out;

        PlainConsole(Io io) {
            this.in = new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8));
            this.out = new PrintWriter(new OutputStreamWriter(io.out(), StandardCharsets.UTF_8));
        }

        @Override
        public String readLine(String prompt) {
            out.print(prompt);
            out.flush();
            String line;
            try {
                line = in.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            out.println(line == null ? "" : line);
            out.flush();
            return line;
        }

        @Override
        public PrintWriter out() {
            return out;
        }

        @Override
        public Style style() {
            return Style.PLAIN;
        }

        @Override
        public void clearScreen() {
        }

        @Override
        public void onInterrupt(Runnable handler) {
        }

        @Override
        public Replying replying() {
            return () -> { };
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    /** A terminal: line editing, in-memory history, Ctrl-C stops a reply, Ctrl-D or 'stop' exits. */
    final class JLineConsole implements ChatConsole {
        private final Terminal terminal;
        private final LineReader reader;

        private JLineConsole(Terminal terminal) {
            this.terminal = terminal;
            // Typed text is a message, not a shell command: no quote or escape handling, no '!' history expansion.
            var parser = new DefaultParser().quoteChars(new char[0]).escapeChars(new char[0]).eofOnUnclosedQuote(false).eofOnEscapedNewLine(false);
            this.reader = LineReaderBuilder.builder()
                    .terminal(terminal)
                    .appName("chatglm")
                    .parser(parser)
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                    .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                    .variable(LineReader.DISABLE_COMPLETION, true)
                    .build();
        }

        static JLineConsole open() {
            try {
                return new JLineConsole(TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build());
            } catch (IOException e) {
                throw new CliException("cannot open the terminal: " + e.getMessage(), e);
            }
        }

        @Override
        public String readLine(String prompt) {
            while (true) {
                try {
                    return reader.readLine(prompt);
                } catch (EndOfFileException e) {
                    return null;
                } catch (UserInterruptException e) {
                    // Ctrl-C at the prompt drops the line, as in a shell; 'stop' or Ctrl-D exits.
                    terminal.writer().println(style().dim("(type 'stop' or press Ctrl-D to exit)"));
                    terminal.flush();
                }
            }
        }

        @Override
        public PrintWriter out() {
            return terminal.writer();
        }

        @Override
        public Style style() {
            return Style.ANSI;
        }

        @Override
        public void clearScreen() {
            terminal.puts(InfoCmp.Capability.clear_screen);
            terminal.flush();
        }

        @Override
        public void onInterrupt(Runnable handler) {
            terminal.handle(Terminal.Signal.INT, signal -> handler.run());
        }

        @Override
        public Replying replying() {
            Attributes saved = terminal.getAttributes();
            var quiet = new Attributes(saved);
            quiet.setLocalFlag(Attributes.LocalFlag.ECHO, false);
            quiet.setLocalFlag(Attributes.LocalFlag.ECHOCTL, false);
            terminal.setAttributes(quiet);
            return () -> terminal.setAttributes(saved);
        }

        @Override
        public void close() {
            try {
                terminal.close();
            } catch (IOException ignored) {
                // the process is ending anyway
            }
        }
    }
}
