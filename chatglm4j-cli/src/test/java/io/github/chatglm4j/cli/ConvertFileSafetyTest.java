package io.github.chatglm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code convert} writes its file safely (issue 10, item 7): a planted link where the old temporary name was is not
 * followed, and a conversion stopped by SIGTERM or SIGINT (Ctrl-C) while its temporary file exists leaves nothing.
 */
class ConvertFileSafetyTest {
    @TempDir
    Path dir;

    @Test
    void aPlantedLinkAtTheTemporaryNameIsNotFollowed() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim.txt"), "precious");
        Path out = dir.resolve("m.gguf");
        Files.createSymbolicLink(dir.resolve("m.gguf.tmp"), victim);
        Cli.Run run = Cli.run("convert", "-m", Cli.tiny().toString(), "-o", out.toString(), "--type", "f16");
        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(Files.readString(victim)).isEqualTo("precious");
        assertThat(Files.isSymbolicLink(dir.resolve("m.gguf.tmp"))).as("the planted link is left alone").isTrue();
        assertThat(Files.size(out)).isPositive();
    }

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"TERM", "INT"})
    void anInterruptedConvertLeavesNoTemporaryFile(String signal) throws Exception {
        Path out = dir.resolve("m.gguf");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // env resets SIGINT (and SIGTERM) to their defaults first: a test JVM started from a background job inherits
        // SIGINT ignored, and a JVM that starts with SIGINT ignored never installs its handler (Ctrl-C would be lost)
        Process p = new ProcessBuilder("env", "--default-signal=INT,TERM", java.toString(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ConvertUntilStopped.class.getName(),
                "convert", "-m", Cli.tiny().toString(), "-o", out.toString(), "--type", "f16")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            p.getOutputStream().close();
            var stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(stdout.readLine()).as("the child reaches the write").isEqualTo(ConvertUntilStopped.MARK);
            assertThat(temporaryFiles()).as("the temporary file exists while the child waits").hasSize(1);
            if (signal.equals("TERM")) {
                p.destroy(); // SIGTERM
            } else {
                assertThat(new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor()).isZero();
            }
            // a guard, not a wait for something: a child that ignores the signal fails here instead of hanging the run
            assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the child ends on SIG%s", signal).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(temporaryFiles()).as("no temporary file after SIG%s", signal).isEmpty();
        assertThat(out).doesNotExist();
    }

    private List<String> temporaryFiles() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }
}
