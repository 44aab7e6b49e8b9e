package io.github.chatglm4j.cli;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.agent.tool.WeatherService;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.OpenAiServer;
import io.github.chatglm4j.server.ServerOptions;
import io.github.chatglm4j.server.agent.AgentApiOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code chatglm serve}: the OpenAI-compatible HTTP server. It listens first and loads the model after, so that
 * {@code /health} answers 503 while loading and 200 once ready; then one line with the URLs (API and web UI) goes to
 * stdout. It runs
 * until Ctrl-C (or SIGTERM), which cancels running requests and closes everything.
 */
@Command(name = "serve", sortOptions = false,
        description = {"Serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, "
                + "/v1/models, /tokenize, /detokenize, /health, /metrics), the web UI at / and its agent API (/api/: "
                + "conversations with tools or the sandboxed code interpreter, their files).",
                "Prints one line with the URLs when the model is loaded; Ctrl-C stops."})
final class ServeCommand implements Callable<Integer> {
    /** Servers of this process, so that in-process tests can stop them as Ctrl-C would. */
    private static final Set<ServeCommand> RUNNING = ConcurrentHashMap.newKeySet();
    /** Defaults of --queue and --max-connections, which {@code web} uses without offering the options. */
    static final int DEFAULT_QUEUE = 64, DEFAULT_MAX_CONNECTIONS = 512;

    private final Io io;
    private final CountDownLatch stop = new CountDownLatch(1);
    /** Counted down once everything is closed; the shutdown hook waits for it. */
    private final CountDownLatch closed = new CountDownLatch(1);

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to listen on (0.0.0.0: every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000",
            description = "TCP port (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--alias", paramLabel = "NAME",
            description = "Model id in /v1/models and responses (default: the model's directory or file name).")
    String alias;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on every request but /health. Visible to other users in 'ps': "
                    + "prefer env CHATGLM_API_KEY or --api-key-file. Default: none (no key).")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Read the API key from the first line of FILE (keep it readable by you only).")
    Path apiKeyFile;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Allow browser pages from this origin (repeatable; * for any). Default: none; other origins "
                    + "cannot send POST requests.")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--allowed-host", paramLabel = "HOST[:PORT]",
            description = "Also answer requests whose Host header names HOST (any port) or HOST:PORT (repeatable; * for any). "
                    + "Default: localhost, 127.0.0.1, [::1] and the --host address with the server's port; with --host 0.0.0.0 "
                    + "any IP address too. Protects against DNS rebinding.")
    List<String> allowedHosts = new ArrayList<>();

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + DEFAULT_MAX_CONNECTIONS,
            description = "Connections served at once; more get 503 and are closed. Default: ${DEFAULT-VALUE}.")
    int maxConnections;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
            description = "Requests generated at the same time (each holds a KV cache of --ctx tokens). Default: ${DEFAULT-VALUE}.")
    int parallel;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "" + DEFAULT_QUEUE,
            description = "Requests that may wait for a free slot; more get 503 with Retry-After. Default: ${DEFAULT-VALUE}.")
    int queue;

    @Mixin
    AgentApiFlags agentApi;

    /** Set by {@code chatglm web}: the ready line leads with the page's address. */
    boolean web;

    ServeCommand(Io io) {
        this.io = io;
    }

    /** Stops every server started in this process (what Ctrl-C does), for tests. */
    static void stopAll() {
        for (ServeCommand c : RUNNING) {
            c.stop.countDown();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be between 0 and 65535, got " + port);
        }
        if (parallel < 1) {
            throw new ParameterException(spec.commandLine(), "--parallel must be at least 1, got " + parallel);
        }
        if (queue < 0) {
            throw new ParameterException(spec.commandLine(), "--queue must be at least 0, got " + queue);
        }
        if (maxConnections < 1) {
            throw new ParameterException(spec.commandLine(), "--max-connections must be at least 1, got " + maxConnections);
        }
        AgentApiOptions agent = agentApi.options(spec);
        model.loadOptions(0); // reports option mistakes before the port is taken
        String key = apiKey();
        String id = alias != null ? alias : model.displayName();
        OpenAiServer server;
        try {
            ServerOptions options = ServerOptions.of(host, port).withApiKey(key).withCorsOrigins(corsOrigins)
                    .withAllowedHosts(allowedHosts).withAgent(agent);
            server = OpenAiServer.start(options.withLimits(options.limits().withMaxConnections(maxConnections)));
        } catch (UncheckedIOException | IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        // whether code can run here is decided once, while the model loads
        CompletableFuture<String> sandbox = CompletableFuture.supplyAsync(server::sandboxProblem,
                r -> Thread.ofVirtual().name("chatglm-sandbox-check").start(r));
        ChatGLM glm = null;
        Thread hook = new Thread(this::interrupted, "chatglm-serve-shutdown");
        try {
            io.err().println("chatglm: listening on " + server.baseUrl() + "; loading " + model.model()
                    + " (/health answers 503 until the model is ready)");
            io.err().flush();
            glm = model.load(io, model.loadOptions(0).withParallel(parallel).withQueue(queue));
            String problem = sandbox.join();
            io.err().println(problem == null ? "chatglm: agent API: the code interpreter and get_shell run in the sandbox"
                    : "chatglm: agent API: the code interpreter and get_shell are disabled: " + problem
                    + " ('chatglm sandbox check' says more)");
            server.ready(Backend.of(glm, id));
            RUNNING.add(this);
            Runtime.getRuntime().addShutdownHook(hook);
            if (web) {
                io.out().println("chatglm: web UI at " + server.pageUrl() + " (" + id + ", API at " + server.baseUrl()
                        + (key == null ? "" : ", API key required") + "); Ctrl-C stops");
            } else {
                io.out().println("chatglm: serving " + id + " at " + server.baseUrl() + " (" + parallel + " parallel, queue "
                        + queue + (key == null ? "" : ", API key required") + "); web UI at " + server.pageUrl() + "; Ctrl-C stops");
            }
            io.out().flush();
            stop.await();
            io.err().println("chatglm: stopping");
            return 0;
        } finally {
            RUNNING.remove(this);
            server.close();
            if (glm != null) {
                glm.close();
            }
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException ignored) {
                // shutting down already, or the hook was never added
            }
        }
    }

    /** The key from --api-key-file, --api-key or CHATGLM_API_KEY (in that order), or null. */
    private String apiKey() {
        if (apiKeyFile != null) {
            if (apiKey != null) {
                throw new ParameterException(spec.commandLine(), "give either --api-key or --api-key-file, not both");
            }
            String key;
            try {
                key = Files.readAllLines(apiKeyFile).stream().findFirst().orElse("").strip();
            } catch (IOException e) {
                throw new CliException("--api-key-file " + apiKeyFile + ": cannot read it (" + e.getMessage() + ")", e);
            }
            if (key.isEmpty()) {
                throw new CliException("--api-key-file " + apiKeyFile + ": the first line is empty");
            }
            return key;
        }
        if (apiKey != null) {
            io.err().println("chatglm: note: --api-key is visible to other users of this machine (ps); "
                    + "prefer CHATGLM_API_KEY or --api-key-file");
            return apiKey;
        }
        String env = System.getenv("CHATGLM_API_KEY");
        return env == null || env.isBlank() ? null : env.strip();
    }

    /** Ctrl-C: let the command close everything, and wait (briefly) for it before the JVM halts. */
    private void interrupted() {
        stop.countDown();
        try {
            closed.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
