package io.github.chatglm4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ProgressBarTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private ProgressBar bar(boolean terminal, boolean plainLines) {
        var stream = new PrintStream(err, true, StandardCharsets.UTF_8);
        var io = new Io(System.in, System.out, stream, false, terminal, 60);
        return new ProgressBar(io, plainLines, 0);
    }

    private String drawn() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void onATerminalTheBarRedrawsOneLineAndEndsItWhenDone() {
        ProgressBar bar = bar(true, false);
        bar.update("reading", 0, 4L << 30);
        bar.update("reading", 4L << 30, 4L << 30);

        String out = drawn();
        assertThat(out).startsWith("\rreading  [").endsWith("\n");
        assertThat(out.split("\n")).as("one line, redrawn with carriage returns").hasSize(1);
        assertThat(out).contains("100% 4.00 GiB/4.00 GiB");
        String last = out.substring(out.lastIndexOf('\r') + 1, out.length() - 1);
        assertThat(last.length()).as("fits the terminal width").isLessThan(60);
        assertThat(last).contains("[" + "#".repeat(last.indexOf(']') - last.indexOf('[') - 1) + "]");
    }

    @Test
    void aNewStageStartsANewLine() {
        ProgressBar bar = bar(true, false);
        bar.update("mapping", 1, 2);
        bar.update("reading", 1, 2);
        bar.finishLine();
        assertThat(drawn().split("\n")).extracting(l -> l.substring(l.lastIndexOf('\r') + 1, l.indexOf('[')))
                .containsExactly("mapping  ", "reading  ");
    }

    @Test
    void offATerminalItPrintsQuartersOrNothing() {
        ProgressBar plain = bar(false, true);
        for (long done = 0; done <= 100; done += 5) {
            plain.update("writing", done << 20, 100L << 20);
        }
        assertThat(drawn().lines()).containsExactly(
                "writing:   0% (0.0 MiB of 100.0 MiB)", "writing:  25% (25.0 MiB of 100.0 MiB)",
                "writing:  50% (50.0 MiB of 100.0 MiB)", "writing:  75% (75.0 MiB of 100.0 MiB)",
                "writing: 100% (100.0 MiB of 100.0 MiB)");

        err.reset();
        ProgressBar silent = bar(false, false);
        silent.update("reading", 1, 2);
        silent.update("reading", 2, 2);
        assertThat(drawn()).isEmpty();
    }
}
