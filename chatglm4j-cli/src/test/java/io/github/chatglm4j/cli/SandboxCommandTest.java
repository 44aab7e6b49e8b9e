package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SandboxCommandTest {
    @TempDir
    Path temp;

    private static List<JsonNode> results(Cli.Run run) {
        return run.outLines().stream().map(Cli::json).toList();
    }

    @Test
    void checkListsEveryFindingAndSucceedsWhereTheSandboxWorks() {
        Cli.Run run = Cli.run("sandbox", "check");

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).allMatch(l -> l.startsWith("ok    ") || l.startsWith("The code interpreter"))
                .anyMatch(l -> l.startsWith("ok    bubblewrap: "))
                .anyMatch(l -> l.startsWith("ok    sandbox: starts"))
                .anyMatch(l -> l.matches("ok    Python modules: numpy \\S+, pandas \\S+, matplotlib \\S+"))
                .last().isEqualTo("The code interpreter and get_shell can run here.");
    }

    @Test
    void checkSaysWhatToInstallWhenBubblewrapIsMissing() {
        Cli.Run run = Cli.run("sandbox", "check", "--bwrap", temp.resolve("bwrap").toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.outLines()).contains("FAIL  bubblewrap not found at " + temp.resolve("bwrap") + ": sudo apt-get install bubblewrap")
                .last().isEqualTo("The code interpreter and get_shell are disabled until this is fixed.");
    }

    @Test
    void runPrintsOneResultPerCellWithWhatTheModelWouldBeGiven() {
        String cells = """
                {"code": "x = 2 ** 100\\nprint(x)"}

                {"code": "x + 1"}
                {"code": "1 / 0"}
                {"code": "import matplotlib.pyplot as plt\\nplt.figure()\\nplt.plot([1, 2])\\nsecond = plt.figure()"}
                """;

        Cli.Run run = Cli.withStdin(cells, "sandbox", "run");

        assertThat(run.exitCode()).as("%s", run).isZero();
        List<JsonNode> r = results(run);
        assertThat(r).hasSize(4);
        assertThat(r.get(0).toString()).isEqualTo("{\"observation\":\"1267650600228229401496703205376\",\"text\":"
                + "\"1267650600228229401496703205376\\n\",\"error\":null,\"images\":0,\"timed_out\":false,\"restarted\":false}");
        assertThat(r.get(1).get("text").asText()).as("state is kept").isEqualTo("1267650600228229401496703205377\n");
        assertThat(r.get(2).get("error").asText()).endsWith("ZeroDivisionError: division by zero\n");
        assertThat(r.get(2).get("observation").asText()).isEqualTo(r.get(2).get("error").asText().strip());
        assertThat(r.get(3).get("images").asInt()).isEqualTo(2);
        assertThat(r.get(3).get("observation").asText()).isEqualTo("[Image]\n[Image]");
    }

    @Test
    void runInterruptsACellAtTheTimeoutAndKeepsTheSession() {
        Cli.Run run = Cli.withStdin("{\"code\": \"n = 1\"}\n{\"code\": \"import time\\ntime.sleep(600)\"}\n{\"code\": \"n\"}\n",
                "sandbox", "run", "--timeout", "2");

        List<JsonNode> r = results(run);
        assertThat(r.get(1).get("timed_out").asBoolean()).isTrue();
        assertThat(r.get(1).get("restarted").asBoolean()).isFalse();
        assertThat(r.get(1).get("observation").asText())
                .endsWith("KeyboardInterrupt\nTimed out after 2 s: the cell was interrupted (variables and files are kept).");
        assertThat(r.get(2).get("text").asText()).isEqualTo("1\n");
    }

    @Test
    void runWithADataFolderLeavesTheFilesThere() throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x")); // reachable by the sandbox user
        Path data = temp.resolve("data");

        Cli.Run run = Cli.withStdin("{\"code\": \"open('/mnt/data/out.txt', 'w').write('kept')\"}\n", "sandbox", "run", "--data", data.toString());

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(Files.readString(data.resolve("out.txt"))).isEqualTo("kept");
    }

    @Test
    void aLineThatIsNotACellStopsWithItsLineNumber() {
        Cli.Run run = Cli.withStdin("{\"code\": \"1\"}\n[\"not a cell\"]\n{\"code\": \"2\"}\n", "sandbox", "run");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.outLines()).hasSize(1);
        assertThat(run.err().strip()).isEqualTo("chatglm: stdin line 2: expected {\"code\": \"...\"}");
    }
}
