package io.github.chatglm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Every user mistake is one line "chatglm: ..." on stderr, exit 2 for usage and 1 otherwise, no stack trace. */
class ErrorsTest {

    private static void assertOneLineError(Cli.Run run, int exitCode, String message) {
        assertThat(run.exitCode()).as("%s", run).isEqualTo(exitCode);
        assertThat(run.errLines()).as("%s", run).singleElement().asString().startsWith("chatglm: ").contains(message);
        assertThat(run.out()).as("nothing on stdout").isEmpty();
    }

    @Test
    void aMissingModelDirectory() {
        Cli.Run run = Cli.run("generate", "-m", "/no/such/model", "--prompt", "hi");
        assertThat(run.errLines()).containsExactly("chatglm: /no/such/model: no such directory");
        assertThat(run.exitCode()).isEqualTo(1);
    }

    @Test
    void aModelDirectoryWithABrokenConfigNamesTheFile(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"num_layers\": ");
        Cli.Run run = Cli.run("chat", "-m", dir.toString());
        assertOneLineError(run, 1, dir.resolve("config.json") + ": not valid JSON");
    }

    @Test
    void promptIdsThatAreNotNumbers() {
        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt-ids", "1,x,3");
        assertOneLineError(run, 2, "Invalid value for option '--prompt-ids' (IDS): 'x' is not an int");
    }

    @Test
    void promptIdsOutsideTheVocabulary() {
        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt-ids", "64790,64798");
        assertOneLineError(run, 2, "token id 64798 is outside the vocabulary [0, 64798)");
    }

    @Test
    void bothPromptOptionsOrNeither() {
        assertOneLineError(Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt", "a", "--prompt-ids", "1"), 2, "mutually exclusive");
        assertOneLineError(Cli.run("generate", "-m", Cli.tiny().toString()), 2, "Missing required argument");
    }

    @Test
    void anUnknownOptionOrCommand() {
        assertOneLineError(Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt", "x", "--frobnicate"), 2, "Unknown option: '--frobnicate'");
        assertOneLineError(Cli.run("frobnicate"), 2, "Unmatched argument at index 0: 'frobnicate'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--temperature=-1", "--top-p=0", "--top-p=1.5", "--top-k=-2", "--repetition-penalty=0", "--max-new-tokens=0", "--threads=0"})
    void outOfRangeOptionValuesAreUsageErrors(String option) {
        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt", "hi", option);
        assertOneLineError(run, 2, option.substring(0, option.indexOf('=')));
    }

    @Test
    void aPromptLongerThanTheContextSaysWhatFits() {
        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--ctx", "4", "--prompt-ids", "64790,64792,64795,30910,13");
        assertOneLineError(run, 1, "the prompt is 5 tokens but the context holds 4");
    }

    @Test
    void debugAddsTheStackTrace() {
        Cli.Run run = Cli.run("generate", "-m", "/no/such/model", "--prompt", "hi", "--debug");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("ModelFormatException").contains("\tat ").endsWith("chatglm: /no/such/model: no such directory\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat", "generate", "tokenize", "bench", "random-model"})
    void everyCommandHasHelp(String command) {
        Cli.Run run = Cli.run(command, "--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("Usage: chatglm " + command).contains("--help");
    }

    @Test
    void versionNamesTheProgramAndTheJvm() {
        Cli.Run run = Cli.run("--version");
        assertThat(run.exitCode()).isZero();
        assertThat(run.outLines()).hasSize(2);
        assertThat(run.outLines().getFirst()).matches("chatglm \\d+\\.\\d+\\.\\d+.*");
        assertThat(run.outLines().get(1)).startsWith("Java " + Runtime.version());
    }
}
