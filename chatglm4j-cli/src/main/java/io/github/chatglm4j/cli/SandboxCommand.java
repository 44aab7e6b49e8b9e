package io.github.chatglm4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code chatglm sandbox}: the sandbox that runs the model's code, checked and tried out. */
@Command(name = "sandbox", description = {"Check or try the sandbox that runs the model's code (bubblewrap: no network, "
        + "read-only system, the conversation's folder at /mnt/data).",
        "Run 'chatglm sandbox check' first; 'chatglm sandbox run' runs cells given as JSON lines."})
final class SandboxCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
