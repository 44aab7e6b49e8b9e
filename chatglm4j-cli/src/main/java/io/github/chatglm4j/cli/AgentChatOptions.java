package io.github.chatglm4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of {@code chatglm chat} that turn on the agent: tools, the code interpreter, and their limits. */
final class AgentChatOptions {
    @Option(names = "--tools", paramLabel = "builtin|FILE",
            description = "Let the model call tools: 'builtin' for the reference demo's random_number_generator, "
                    + "get_weather and get_shell (run in the sandbox), or a JSON/YAML file of OpenAI-style tool "
                    + "definitions, whose results you type in when the model calls them.")
    String tools;

    @Option(names = "--interpreter",
            description = "Let the model run Python in a sandboxed, notebook-like interpreter (numpy, pandas, "
                    + "matplotlib; no network; files under /mnt/data).")
    boolean interpreter;

    @Option(names = "--weather",
            description = "With --tools builtin: let get_weather ask wttr.in over the internet (off by default).")
    boolean weather;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The folder the code sees as /mnt/data (default: a new folder in the system temp folder, "
                    + "kept after exit).")
    Path data;

    @Option(names = "--cell-timeout", paramLabel = "S", defaultValue = "30",
            description = "Seconds a code cell or a tool may run before it is stopped. Default: ${DEFAULT-VALUE}.")
    int cellTimeout;

    @Option(names = "--max-rounds", paramLabel = "N", defaultValue = "5",
            description = "Model turns per message, calls included (the reference demo's 5). Default: ${DEFAULT-VALUE}.")
    int maxRounds;

    /** Whether the chat runs the agent loop. */
    boolean enabled() {
        return tools != null || interpreter;
    }

    boolean builtinTools() {
        return "builtin".equals(tools);
    }
}
