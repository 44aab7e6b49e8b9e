package io.github.chatglm4j.cli;

import io.github.chatglm4j.hub.DownloadPlan;
import io.github.chatglm4j.hub.ModelRef;
import io.github.chatglm4j.hub.RemoteFile;
import io.github.chatglm4j.hub.Source;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DownloadProgressTest {
    private static final RemoteFile A = new RemoteFile("model-00001-of-00002.safetensors", 400L << 20, "a".repeat(64), null);
    private static final RemoteFile B = new RemoteFile("config.json", 100L << 20, null, "b".repeat(40));
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private DownloadProgress progress(boolean terminal, boolean quiet) {
        var stream = new PrintStream(err, true, StandardCharsets.UTF_8);
        return new DownloadProgress(new Io(System.in, System.out, stream, false, terminal, 100), quiet);
    }

    private void run(DownloadProgress p) {
        p.planned(new DownloadPlan(ModelRef.parse("THUDM/chatglm3-6b", Source.HUGGING_FACE), "5777b27c1c15d45e5e32daa07bc2d4e6c8f6a0a1",
                List.of(A, B), List.of(A, B), 500L << 20, Path.of("/cache/snap")));
        for (long done = 0; done <= 400; done += 50) {
            p.progress(A, done << 20, done << 20);
        }
        p.finished(A);
        p.note("config.json: HTTP 503 from hub; retrying");
        p.progress(B, 100L << 20, 500L << 20);
        p.finished(B);
    }

    private String shown() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void thePlanComesFirstWithFilesSizesAndDestination() {
        run(progress(false, false));
        assertThat(shown().lines().limit(3)).containsExactly(
                "chatglm: downloading THUDM/chatglm3-6b (commit 5777b27c1c15): 2 of 2 files, 500.0 MiB into /cache/snap",
                "  model-00001-of-00002.safetensors          400.0 MiB",
                "  config.json                               100.0 MiB");
    }

    @Test
    void offATerminalEachFileGetsALineAtEveryQuarter() {
        run(progress(false, false));
        assertThat(shown().lines().skip(3)).containsExactly(
                "model-00001-of-00002.safetensors:   0% (0.0 KiB of 400.0 MiB), total   0% (0.0 KiB of 500.0 MiB)",
                "model-00001-of-00002.safetensors:  25% (100.0 MiB of 400.0 MiB), total  20% (100.0 MiB of 500.0 MiB)",
                "model-00001-of-00002.safetensors:  50% (200.0 MiB of 400.0 MiB), total  40% (200.0 MiB of 500.0 MiB)",
                "model-00001-of-00002.safetensors:  75% (300.0 MiB of 400.0 MiB), total  60% (300.0 MiB of 500.0 MiB)",
                "model-00001-of-00002.safetensors: 100% (400.0 MiB of 400.0 MiB), total  80% (400.0 MiB of 500.0 MiB)",
                "chatglm: config.json: HTTP 503 from hub; retrying",
                "config.json: 100% (100.0 MiB of 100.0 MiB), total 100% (500.0 MiB of 500.0 MiB)");
    }

    @Test
    void onATerminalAFileBarAndATotalBarRedrawInPlace() {
        run(progress(true, false));
        String out = shown();
        assertThat(out).contains("\u001b[1A").as("redraws move up over the two bars");
        // what stays on the screen once every redraw is applied: one finished line per file, then the total
        List<String> screen = Screen.render(out);
        assertThat(screen).hasSize(3 + 4);
        assertThat(screen.get(3)).startsWith("…01-of-00002.safetensors [").contains("100% 400.0 MiB/400.0 MiB").endsWith("done");
        assertThat(screen.get(4)).isEqualTo("chatglm: config.json: HTTP 503 from hub; retrying");
        assertThat(screen.get(5)).startsWith("config.json              [").contains("100% 100.0 MiB/100.0 MiB");
        assertThat(screen.get(6)).startsWith("total                    [").contains("100% 500.0 MiB/500.0 MiB").endsWith("done");
        assertThat(screen).filteredOn(l -> l.contains(" [")).as("bars fit the terminal").allMatch(l -> l.length() < 100);
    }

    @Test
    void quietShowsNothingButNotes() {
        run(progress(true, true));
        assertThat(shown().lines()).containsExactly("chatglm: config.json: HTTP 503 from hub; retrying");
    }

    /** A tiny terminal: carriage return, newline, cursor up, clear to end of line. */
    static final class Screen {
        static List<String> render(String s) {
            var lines = new java.util.ArrayList<StringBuilder>();
            lines.add(new StringBuilder());
            int row = 0;
            int col = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\r') {
                    col = 0;
                } else if (c == '\n') {
                    row++;
                    col = 0;
                    if (row == lines.size()) {
                        lines.add(new StringBuilder());
                    }
                } else if (s.startsWith("\u001b[1A", i)) {
                    row--;
                    i += 3;
                } else if (s.startsWith("\u001b[K", i)) {
                    lines.get(row).setLength(Math.min(col, lines.get(row).length()));
                    i += 2;
                } else {
                    StringBuilder line = lines.get(row);
                    while (line.length() < col) {
                        line.append(' ');
                    }
                    if (col < line.length()) {
                        line.setCharAt(col, c);
                    } else {
                        line.append(c);
                    }
                    col++;
                }
            }
            return lines.stream().map(StringBuilder::toString).filter(l -> !l.isEmpty()).toList();
        }
    }
}
