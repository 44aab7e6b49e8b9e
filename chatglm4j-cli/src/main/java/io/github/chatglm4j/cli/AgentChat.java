package io.github.chatglm4j.cli;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.ChatSession;
import io.github.chatglm4j.agent.Agent;
import io.github.chatglm4j.agent.AgentOptions;
import io.github.chatglm4j.agent.AgentTurn;
import io.github.chatglm4j.agent.SessionTurns;
import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.interpreter.InterpreterOptions;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;
import io.github.chatglm4j.agent.tool.BuiltinTools;
import io.github.chatglm4j.agent.tool.Tool;
import io.github.chatglm4j.agent.tool.ToolFiles;
import io.github.chatglm4j.agent.tool.ToolRegistry;
import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.generate.GenerationOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * {@code chatglm chat --tools ... / --interpreter}: the agent loop in the terminal. The model's calls run (tools,
 * sandboxed code), their results go back to it, and each step is shown as it happens; lines are read as in the plain
 * chat, so a script can drive it.
 */
final class AgentChat {
    private final Io io;
    private final CommandSpec spec;
    private final ModelOptions model;
    private final AgentChatOptions agentOptions;
    private final String system;
    private final GenerationOptions generation;
    private final int maxNewTokens;

    AgentChat(Io io, CommandSpec spec, ModelOptions model, AgentChatOptions agentOptions, String system,
              GenerationOptions generation, int maxNewTokens) {
        this.io = io;
        this.spec = spec;
        this.model = model;
        this.agentOptions = agentOptions;
        this.system = system;
        this.generation = generation;
        this.maxNewTokens = maxNewTokens;
    }

    int run() {
        try {
            return runAgent();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted", e);
        }
    }

    private int runAgent() throws InterruptedException {
        checkOptions();
        Style errStyle = Style.forTerminal(io.stderrTerminal());
        Duration timeout = Duration.ofSeconds(agentOptions.cellTimeout);
        boolean fileTools = agentOptions.tools != null && !agentOptions.builtinTools();
        List<Tool> declared = fileTools ? readToolFile() : List.of();
        Sandbox sandbox = sandbox(errStyle);
        Workspace workspace = sandbox == null ? null : Workspace.create(agentOptions.data);
        CodeInterpreter interpreter = null;
        try (ChatConsole console = ChatConsole.open(io)) {
            ToolRegistry tools = tools(sandbox, workspace, declared, console, timeout);
            if (agentOptions.interpreter) {
                interpreter = startInterpreter(sandbox, workspace, timeout);
                CodeInterpreter running = interpreter;
                Runtime.getRuntime().addShutdownHook(new Thread(running::close, "chatglm-interpreter-cleanup"));
            }
            if (workspace != null) {
                note(errStyle, "files: " + workspace.data() + " (the code's /mnt/data); figures: " + workspace.figures(), console.out());
            }
            long t0 = System.nanoTime();
            try (ChatGLM glm = model.load(io, 0)) {
                note(errStyle, String.format(Locale.ROOT, "loaded %s in %.1f s: %s weights, %d threads, context %d tokens (%s)",
                        model.displayName(), (System.nanoTime() - t0) / 1e9, glm.model().weights().matrixType(),
                        glm.threads(), glm.contextSize(), ModelOptions.kvCacheSummary(glm)), console.out());
                ChatSession session = glm.newChat(List.of(Agent.systemMessage(tools, agentOptions.interpreter)));
                AgentOptions limits = AgentOptions.DEFAULTS.withMaxRounds(agentOptions.maxRounds)
                        // a tool whose result the user types must wait for the user
                        .withToolTimeout(fileTools ? Duration.ofHours(24) : timeout);
                var agent = new Agent(new SessionTurns(session, generation), tools, interpreter, limits);
                console.onInterrupt(agent::cancel);
                chat(glm, session, agent, console, workspace, errStyle);
            }
        } finally {
            if (interpreter != null) {
                interpreter.close();
            }
        }
        return 0;
    }

    private void chat(ChatGLM glm, ChatSession session, Agent agent, ChatConsole console, Workspace workspace, Style errStyle)
            throws InterruptedException {
        Style style = console.style();
        PrintWriter out = console.out();
        welcome(out, style, glm);
        while (true) {
            out.println();
            String line = console.readLine(style.bold("User: "));
            if (line == null || line.strip().equals("stop")) {
                return;
            }
            if (line.strip().equals("clear")) {
                session.reset();
                console.clearScreen();
                welcome(out, style, glm);
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            var printer = new AgentPrinter(out, style, workspace == null ? null : workspace.figures(),
                    workspace == null ? null : workspace.data());
            AgentTurn turn;
            try (var _ = console.replying()) {
                turn = agent.send(line, printer);
            } catch (ContextOverflowException e) {
                out.println();
                note(errStyle, "chatglm: the conversation (" + e.promptTokens() + " tokens with this message) "
                        + "no longer fits the context of " + e.contextSize() + " tokens; type 'clear' to start a "
                        + "new one (or restart with a larger --ctx)", out);
                continue;
            }
            if (turn.outcome() == AgentTurn.Outcome.LENGTH) {
                out.println(style.dim(session.tokensUsed() + 1 >= glm.contextSize()
                        ? "[the context is full (" + glm.contextSize() + " tokens): type 'clear' to start a new conversation]"
                        : "[reply cut at --max-new-tokens " + maxNewTokens + "]"));
            }
            for (AgentTurn.Round r : turn.rounds()) {
                note(errStyle, ChatCommand.stats(r.reply().generation()), out);
            }
        }
    }

    private static CodeInterpreter startInterpreter(Sandbox sandbox, Workspace workspace, Duration timeout) throws InterruptedException {
        try {
            return CodeInterpreter.start(sandbox, workspace.data(), InterpreterOptions.DEFAULTS.withCellTimeout(timeout));
        } catch (SandboxUnavailableException e) {
            throw new CliException("the code interpreter is disabled: " + e.getMessage(), e);
        }
    }

    private void checkOptions() {
        if (system != null) {
            throw new ParameterException(spec.commandLine(), "--system cannot be combined with --tools or --interpreter: "
                    + "they use the system prompts ChatGLM3 was trained with");
        }
        if (agentOptions.weather && !agentOptions.builtinTools()) {
            throw new ParameterException(spec.commandLine(), "--weather needs --tools builtin");
        }
        if (agentOptions.data != null && !agentOptions.interpreter && !agentOptions.builtinTools()) {
            throw new ParameterException(spec.commandLine(), "--data needs --interpreter or --tools builtin");
        }
        if (agentOptions.cellTimeout < 1) {
            throw new ParameterException(spec.commandLine(), "--cell-timeout must be at least 1 second, got " + agentOptions.cellTimeout);
        }
        if (agentOptions.maxRounds < 1) {
            throw new ParameterException(spec.commandLine(), "--max-rounds must be at least 1, got " + agentOptions.maxRounds);
        }
    }

    private List<Tool> readToolFile() {
        try {
            return ToolFiles.read(Path.of(agentOptions.tools));
        } catch (IOException e) {
            throw new CliException("cannot read the tool file " + agentOptions.tools + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /**
     * The sandbox, when something needs it. The interpreter cannot run without it (one line saying why and what to
     * install); the built-in get_shell then answers the model that it is unavailable, and the user is told.
     */
    private Sandbox sandbox(Style errStyle) {
        if (!agentOptions.interpreter && !agentOptions.builtinTools()) {
            return null;
        }
        try {
            return Sandbox.open(SandboxConfig.DEFAULTS);
        } catch (SandboxUnavailableException e) {
            if (agentOptions.interpreter) {
                throw new CliException("the code interpreter is disabled: " + e.getMessage()
                        + "; run 'chatglm sandbox check' for details");
            }
            io.err().println(errStyle.dim("chatglm: get_shell is disabled: " + e.getMessage()));
            return null;
        }
    }

    private ToolRegistry tools(Sandbox sandbox, Workspace workspace, List<Tool> declared, ChatConsole console, Duration timeout) {
        if (agentOptions.builtinTools()) {
            WeatherService weather = agentOptions.weather ? WeatherService.wttrIn() : WeatherService.DISABLED;
            Tool shell = sandbox == null ? BuiltinTools.shellUnavailable("the sandbox cannot run on this machine")
                    : BuiltinTools.shell(sandbox, workspace.data(), timeout);
            return BuiltinTools.registry(weather, shell);
        }
        var tools = new ToolRegistry();
        for (Tool t : declared) {
            // the reference demo's manual mode: the user supplies what the tool would have returned
            tools.add(t.withHandler(args -> {
                String result = console.readLine(console.style().bold("Result of " + t.name() + " " + args.json() + ": "));
                return result == null ? "" : result;
            }));
        }
        return tools;
    }

    private void welcome(PrintWriter out, Style style, ChatGLM glm) {
        out.println(style.bold("Welcome to ChatGLM3 (" + model.displayName() + ") with "
                + (agentOptions.interpreter ? "the code interpreter" : "tools") + ". Type a message to chat; 'clear' "
                + "clears the history, 'stop' exits."));
        out.println(ChatCommand.WELCOME_ZH);
        out.flush();
    }

    private void note(Style errStyle, String text, PrintWriter out) {
        out.flush();
        io.out().flush();
        io.err().println(errStyle.dim(text));
        io.err().flush();
    }

    /**
     * The conversation's folders: the data folder the sandbox sees as /mnt/data and a figures folder only the JVM writes
     * (so nothing the code does can redirect where a figure is written).
     */
    record Workspace(Path data, Path figures) {
        static Workspace create(Path data) {
            try {
                if (data != null) {
                    return new Workspace(data.toAbsolutePath(), privateTempDir("chatglm-figures-"));
                }
                Path session = privateTempDir("chatglm-session-");
                // searchable, so the sandbox user (nobody, when chatglm runs as root) reaches data/ inside it
                Files.setPosixFilePermissions(session, PosixFilePermissions.fromString("rwx--x--x"));
                Path figures = Files.createDirectory(session.resolve("figures"),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                return new Workspace(Files.createDirectory(session.resolve("data")), figures);
            } catch (IOException e) {
                throw new CliException("cannot create the conversation's folders: " + e.getMessage(), e);
            }
        }

        private static Path privateTempDir(String prefix) throws IOException {
            return Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }
}
