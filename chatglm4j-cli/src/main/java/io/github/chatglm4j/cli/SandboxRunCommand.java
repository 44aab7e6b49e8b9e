package io.github.chatglm4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.AgentOptions;
import io.github.chatglm4j.agent.Observation;
import io.github.chatglm4j.agent.interpreter.CellResult;
import io.github.chatglm4j.agent.interpreter.CodeInterpreter;
import io.github.chatglm4j.agent.interpreter.InterpreterOptions;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.sandbox.SandboxConfig;
import io.github.chatglm4j.agent.sandbox.SandboxUnavailableException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code chatglm sandbox run}: cells from stdin, run in one sandboxed session, one JSON result per cell. */
@Command(name = "run", sortOptions = false,
        description = {"Run Python cells in one sandboxed session, as the code interpreter would, and print what each did.",
                "Reads JSON lines {\"code\": \"...\"} from stdin (blank lines are skipped) and prints one JSON line per cell: "
                        + "{\"observation\": what the model would be given, \"text\": the output, \"error\": the traceback "
                        + "or null, \"images\": figures made, \"timed_out\": bool, \"restarted\": bool}. Variables, imports "
                        + "and files carry over from cell to cell. At the first bad line an error naming the line goes to "
                        + "stderr and the command stops with exit code 1."})
final class SandboxRunCommand implements Callable<Integer> {
    private final Io io;
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR",
            description = "The folder the code sees as /mnt/data (default: a new temporary folder, removed at the end).")
    Path data;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "30",
            description = "Seconds a cell may run before it is interrupted. Default: ${DEFAULT-VALUE}.")
    int timeout;

    @Option(names = "--bwrap", paramLabel = "PATH", description = "The bubblewrap binary. Default: /usr/bin/bwrap.")
    Path bwrap;

    @Option(names = "--python", paramLabel = "PATH", description = "The Python run inside (must be under /usr). Default: /usr/bin/python3.")
    Path python;

    SandboxRunCommand(Io io) {
        this.io = io;
    }

    static SandboxConfig config(Path bwrap, Path python) {
        SandboxConfig c = SandboxConfig.DEFAULTS;
        if (bwrap != null) {
            c = c.withBwrap(bwrap.toAbsolutePath());
        }
        if (python != null) {
            try {
                c = c.withPython(python.toAbsolutePath());
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage(), e);
            }
        }
        return c;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (timeout < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout must be at least 1 second, got " + timeout);
        }
        Sandbox sandbox;
        try {
            sandbox = Sandbox.open(config(bwrap, python));
        } catch (SandboxUnavailableException e) {
            throw new CliException(e.getMessage() + "; run 'chatglm sandbox check' for details", e);
        }
        Path scratch = null;
        Path folder = data;
        if (folder == null) {
            scratch = Files.createTempDirectory("chatglm-sandbox-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            folder = scratch.resolve("data");
        }
        Path cleanup = scratch;
        Thread hook = new Thread(() -> deleteTree(cleanup), "chatglm-sandbox-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try (CodeInterpreter session = start(sandbox, folder)) {
            runCells(session);
        } finally {
            deleteTree(scratch);
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        return 0;
    }

    private CodeInterpreter start(Sandbox sandbox, Path folder) throws InterruptedException {
        try {
            return CodeInterpreter.start(sandbox, folder, InterpreterOptions.DEFAULTS.withCellTimeout(Duration.ofSeconds(timeout)));
        } catch (SandboxUnavailableException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private void runCells(CodeInterpreter session) throws IOException, InterruptedException {
        var in = new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8));
        int lineNumber = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            String code = code(line, lineNumber);
            CellResult r = session.run(code);
            Observation o = Observation.of(r, AgentOptions.DEFAULTS.observationLimit());
            ObjectNode out = json.createObjectNode()
                    .put("observation", o.content())
                    .put("text", r.text())
                    .put("error", r.error())
                    .put("images", r.figures().size())
                    .put("timed_out", r.timedOut())
                    .put("restarted", r.restarted());
            io.out().println(json.writeValueAsString(out));
            io.out().flush();
        }
    }

    private String code(String line, int lineNumber) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (JsonProcessingException e) {
            throw new CliException("stdin line " + lineNumber + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject() || !node.path("code").isTextual()) {
            throw new CliException("stdin line " + lineNumber + ": expected {\"code\": \"...\"}");
        }
        return node.get("code").asText();
    }

    private static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temporary folder is harmless
        }
    }
}
