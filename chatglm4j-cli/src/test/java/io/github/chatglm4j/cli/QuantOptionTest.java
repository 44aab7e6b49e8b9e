package io.github.chatglm4j.cli;

import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --quant TYPE} of chat, generate and bench: parsed case-insensitively into the load options. */
class QuantOptionTest {

    private static ModelOptions parse(String command, String... extra) {
        var io = Io.plain(new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        var cl = Main.commandLine(io);
        String[] args = new String[extra.length + 3];
        args[0] = command;
        args[1] = "-m";
        args[2] = Cli.tiny().toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        cl.parseArgs(args);
        Object cmd = cl.getSubcommands().get(command).getCommand();
        return switch (cmd) {
            case GenerateCommand g -> g.model;
            case ChatCommand c -> c.model;
            case BenchCommand b -> b.model;
            default -> throw new IllegalStateException(cmd.toString());
        };
    }

    @ParameterizedTest
    @CsvSource({"q8_0, Q8_0", "Q4_0, Q4_0", "q4_1, Q4_1", "Q5_0, Q5_0", "q5_1, Q5_1"})
    void quantTypesAreParsedInAnyCase(String value, TensorType want) {
        assertThat(parse("generate", "--prompt", "hi", "--quant", value).loadOptions(0).quant()).isEqualTo(want);
        assertThat(parse("chat", "--quant=" + value).loadOptions(0).quant()).isEqualTo(want);
    }

    @Test
    void withoutTheOptionTheStoredTypesAreKept() {
        assertThat(parse("generate", "--prompt", "hi").loadOptions(0).quant()).isNull();
    }

    @Test
    void q4_0IsRepackedByDefaultQ8_0OnlyWhenAskedAndTheNoteSaysWhenThereIsNothingToRepack() {
        assertThat(parse("generate", "--prompt", "hi").loadOptions(0).repack()).containsExactly(TensorType.Q4_0);
        assertThat(parse("bench", "--repack").loadOptions(0).repack()).containsExactlyInAnyOrder(TensorType.Q4_0, TensorType.Q8_0);
        assertThat(parse("bench", "--no-repack").loadOptions(0).repack()).isEmpty();
        // the tiny fixture model is BF16: nothing to regroup, and the user is told so
        Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt-ids", "1,2,3", "--max-new-tokens", "1", "--repack");
        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.errLines()).as("%s", run)
                .contains("chatglm: note: --repack applies to Q4_0 and Q8_0 weights only; this model has none, nothing was repacked");
    }

    @Test
    void anUnsupportedTypeIsAUsageError() {
        for (String bad : new String[]{"q4_k", "f16", "int4", ""}) {
            Cli.Run run = Cli.run("generate", "-m", Cli.tiny().toString(), "--prompt", "hi", "--quant", bad);
            assertThat(run.exitCode()).as("%s", run).isEqualTo(2);
            assertThat(run.errLines()).as("%s", run).singleElement().asString()
                    .startsWith("chatglm: Invalid value for option '--quant': expected one of q8_0, q4_0, q4_1, q5_0, q5_1 but was '" + bad + "'");
        }
    }

    @Test
    void helpListsTheOption() {
        Cli.Run run = Cli.run("generate", "--help");
        assertThat(run.out()).contains("--quant=TYPE").contains("Quantize the layer weights while loading").contains("(case-insensitive)");
    }
}
