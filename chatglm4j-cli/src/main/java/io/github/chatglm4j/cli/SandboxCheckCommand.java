package io.github.chatglm4j.cli;

import io.github.chatglm4j.agent.sandbox.SandboxCheck;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code chatglm sandbox check}: whether the sandbox works here, and if not, why and what to install. */
@Command(name = "check", sortOptions = false,
        description = {"Say whether the code interpreter's sandbox works on this machine: bubblewrap, util-linux, "
                + "Debian's python3, user namespaces, a real sandbox start, and numpy, pandas and matplotlib inside it.",
                "Prints one line per check ('ok' or 'FAIL' with the fix); exit code 0 when everything works, 1 otherwise."})
final class SandboxCheckCommand implements Callable<Integer> {
    private final Io io;

    @Option(names = "--bwrap", paramLabel = "PATH", description = "The bubblewrap binary. Default: /usr/bin/bwrap.")
    Path bwrap;

    @Option(names = "--python", paramLabel = "PATH", description = "The Python run inside (must be under /usr). Default: /usr/bin/python3.")
    Path python;

    SandboxCheckCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        SandboxCheck.Report report = SandboxCheck.run(SandboxRunCommand.config(bwrap, python));
        report.findings().forEach(f -> io.out().println(f.line()));
        io.out().println(report.ok() ? "The code interpreter and get_shell can run here."
                : "The code interpreter and get_shell are disabled until this is fixed.");
        io.out().flush();
        return report.ok() ? 0 : Main.EXIT_ERROR;
    }
}
