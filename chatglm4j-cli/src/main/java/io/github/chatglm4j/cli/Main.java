package io.github.chatglm4j.cli;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.hub.HubException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The {@code chatglm} command. Every user mistake ends as one line {@code chatglm: <message>} on stderr with exit
 * code 2 (usage) or 1 (anything else); {@code --debug} adds the stack trace.
 */
@Command(name = "chatglm", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class, usageHelpAutoWidth = true, sortOptions = false,
        description = "Run ChatGLM3 models (chatglm3-6b, -base, -32k, -128k) on the CPU, in pure Java.",
        commandListHeading = "%nCommands:%n")
public final class Main implements Runnable {
    static final int EXIT_ERROR = 1;
    static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Show the stack trace of errors.")
    boolean debug;

    private Main() {
    }

    public static void main(String[] args) {
        TerminalProbe.restoreStderr();
        Io io = Io.system();
        int code = run(args, io);
        io.out().flush();
        io.err().flush();
        System.exit(code);
    }

    /** Runs one command line on the given streams and returns the exit code (the in-process entry for tests). */
    static int run(String[] args, Io io) {
        try {
            return commandLine(io).execute(args);
        } catch (OutOfMemoryError e) {
            io.err().println("chatglm: out of Java heap memory (the weights are mapped outside the heap; "
                    + "a very large --ctx needs a larger -Xmx in CHATGLM_JAVA_OPTS)");
            return EXIT_ERROR;
        }
    }

    /** The command tree, wired explicitly. */
    static CommandLine commandLine(Io io) {
        var cl = new CommandLine(new Main());
        cl.addSubcommand("chat", new ChatCommand(io));
        cl.addSubcommand("generate", new GenerateCommand(io));
        cl.addSubcommand("serve", new ServeCommand(io));
        cl.addSubcommand("web", new WebCommand(io));
        cl.addSubcommand("tokenize", new TokenizeCommand(io));
        cl.addSubcommand("bench", new BenchCommand(io));
        cl.addSubcommand("random-model", new RandomModelCommand(io));
        cl.addSubcommand("convert", new ConvertCommand(io));
        cl.addSubcommand("pull", new PullCommand(io));
        cl.addSubcommand("models", new ModelsCommand(io));
        cl.addSubcommand("rm", new RmCommand(io));
        cl.addSubcommand("sandbox", new CommandLine(new SandboxCommand())
                .addSubcommand("check", new SandboxCheckCommand(io))
                .addSubcommand("run", new SandboxRunCommand(io)));
        // set after the subcommands are added, so that they do not inherit it
        cl.getCommandSpec().usageMessage().footer("", "Run 'chatglm COMMAND --help' for the options of a command.");
        cl.setOut(new PrintWriter(new OutputStreamWriter(io.out(), StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(io.err(), StandardCharsets.UTF_8), true));
        cl.setColorScheme(Help.defaultColorScheme(io.interactive() ? Help.Ansi.ON : Help.Ansi.OFF));
        cl.setParameterExceptionHandler((e, args) -> usageError(io, e));
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> failure(io, e, cmd, parsed));
        return cl;
    }

    @Override
    public void run() {
        // "chatglm" alone: show what there is to do
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static int usageError(Io io, ParameterException e) {
        if (debugRequested(e.getCommandLine().getParseResult())) {
            e.printStackTrace(io.err());
        }
        String name = e.getCommandLine().getCommandSpec().qualifiedName();
        io.err().println("chatglm: " + firstLine(e.getMessage()) + " (see '" + name + " --help')");
        io.err().flush();
        return EXIT_USAGE;
    }

    private static int failure(Io io, Exception e, CommandLine cmd, ParseResult parsed) {
        io.out().flush();
        boolean debug = debugRequested(parsed);
        if (debug) {
            e.printStackTrace(io.err());
        }
        String message = switch (e) {
            case CliException c -> c.getMessage();
            case ModelFormatException m -> m.getMessage();
            case ContextOverflowException c -> c.getMessage();
            case HubException h -> h.getMessage();
            case UncheckedIOException u -> u.getCause().getMessage();
            case IOException io1 -> io1.getMessage() == null ? io1.toString() : io1.toString().replace("java.nio.file.", "");
            default -> "unexpected error: " + e + (debug ? "" : " (run with --debug for details)");
        };
        io.err().println("chatglm: " + firstLine(message));
        io.err().flush();
        return EXIT_ERROR;
    }

    private static boolean debugRequested(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    /** "chatglm 0.1.0", then the JVM and machine, which matter for speed. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            var props = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    props.load(in);
                }
            } catch (IOException ignored) {
                // fall through to "unknown"
            }
            return new String[]{
                    "chatglm " + props.getProperty("version", "unknown"),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), "
                            + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                            + Runtime.getRuntime().availableProcessors() + " processors"};
        }
    }
}
