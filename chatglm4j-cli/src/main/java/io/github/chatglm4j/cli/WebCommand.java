package io.github.chatglm4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code chatglm web}: the web UI (chat, tools, code interpreter) and the APIs it uses, exactly as {@code serve} runs
 * them, with the options a person starting the page needs; it prints the page's address and opens nothing else.
 */
@Command(name = "web", sortOptions = false,
        description = {"Serve the web UI (chat, tools, code interpreter) and the API it uses; prints the page's URL.",
                "The same server as 'serve' (which serves the page too), with fewer options. Ctrl-C stops."})
final class WebCommand implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to listen on (0.0.0.0: every interface; then set a key). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000",
            description = "TCP port (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Require the API key in the first line of FILE (the page asks for it). Default: env CHATGLM_API_KEY, else none.")
    Path apiKeyFile;

    @Option(names = "--allowed-host", paramLabel = "HOST[:PORT]",
            description = "Also answer requests whose Host header names HOST (repeatable), e.g. the machine's name when "
                    + "the page is opened from another computer.")
    List<String> allowedHosts = new ArrayList<>();

    @Mixin
    AgentApiFlags agentApi;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
            description = "Replies generated at the same time (each holds a KV cache of --ctx tokens). Default: ${DEFAULT-VALUE}.")
    int parallel;

    WebCommand(Io io) {
        this.io = io;
    }

    @Override
    public Integer call() throws Exception {
        ServeCommand serve = new ServeCommand(io);
        serve.spec = spec;
        serve.model = model;
        serve.host = host;
        serve.port = port;
        serve.apiKeyFile = apiKeyFile;
        serve.allowedHosts = allowedHosts;
        serve.parallel = parallel;
        serve.queue = ServeCommand.DEFAULT_QUEUE;
        serve.maxConnections = ServeCommand.DEFAULT_MAX_CONNECTIONS;
        serve.agentApi = agentApi;
        serve.web = true;
        return serve.call();
    }
}
