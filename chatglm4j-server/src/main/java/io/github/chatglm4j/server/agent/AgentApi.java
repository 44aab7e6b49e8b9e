package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.tool.Tool;
import io.github.chatglm4j.server.ApiError;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.Exchange;

import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * The agent API the web UI uses ({@code /api/...}): the server's facts and the conversations. The browser keeps the
 * history; the server keeps, per conversation, a folder. The server's router checks Host, Origin and the API key
 * before it hands a request here ({@code /api/info} needs no key).
 *
 * <pre>{@code
 * GET  /api/info                                -> {"model", "context", "auth", "defaults", "tools", "interpreter", ...}
 * POST /api/conversations                       -> 201 {"id": "c-..."}
 * }</pre>
 */
public final class AgentApi implements AutoCloseable {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String CONVERSATIONS = "/api/conversations";

    private final AgentApiOptions options;
    private final boolean auth;
    private final Conversations conversations;
    private SandboxStatus sandbox;

    /** @param auth whether the server requires an API key (reported by /api/info) */
    public AgentApi(AgentApiOptions options, boolean auth) {
        this.options = options;
        this.auth = auth;
        this.conversations = new Conversations(options);
    }

    /** Whether {@code path} is one of this API's. */
    public static boolean owns(String path) {
        return path.equals("/api") || path.startsWith("/api/");
    }

    /** Whether a request needs the API key: all but {@code /api/info}, which tells the page whether to ask for one. */
    public static boolean needsKey(String path) {
        return !path.equals("/api/info");
    }

    /** Whether a request can be served while the model loads: only {@code /api/info} (it then says {@code ready: false}). */
    public static boolean needsModel(String path) {
        return !path.equals("/api/info");
    }

    /** The route's name in the metrics. */
    public static String routeName(String path) {
        Route r = Route.of(path);
        return r == null ? "unknown" : "api_" + r.kind.name().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether code can run here, decided once (the sandbox check starts programs, so it runs on first need):
     * null when it can, else why not.
     */
    public String sandboxProblem() {
        return sandbox().reason();
    }

    synchronized SandboxStatus sandbox() {
        if (sandbox == null) {
            sandbox = SandboxStatus.check(options.sandbox());
        }
        return sandbox;
    }

    /** Answers an {@code /api/...} request; {@code backend} is null while the model loads. */
    public void handle(Exchange ex, Backend backend) throws IOException {
        Route r = Route.of(ex.path());
        if (r == null) {
            throw ApiError.of(404, "unknown_url", "Unknown request URL: " + ex.method() + " " + ex.path() + ". The agent API offers "
                    + "/api/info, /api/conversations and /api/conversations/{id}.");
        }
        if (!r.kind.methods.contains(ex.method())) {
            String allow = String.join(", ", r.kind.methods) + ", OPTIONS";
            ex.setHeader("Allow", allow);
            throw ApiError.of(405, "method_not_allowed", ex.method() + " is not allowed for " + ex.path() + " (allowed: " + allow + ")");
        }
        switch (r.kind) {
            case INFO -> ex.json(200, info(backend));
            case CONVERSATIONS -> {
                ex.body(); // none expected; read so the connection stays usable
                ex.json(201, NODES.objectNode().put("id", conversations.create().id));
            }
            case CONVERSATION -> {
                conversations.delete(r.id);
                ex.empty(204);
            }
        }
    }

    private ObjectNode info(Backend backend) {
        ObjectNode out = NODES.objectNode();
        if (backend == null) {
            out.putNull("model").putNull("context");
        } else {
            out.put("model", backend.modelId()).put("context", backend.contextSize());
        }
        out.put("auth", auth);
        out.putObject("defaults").put("max_tokens", TurnRequest.DEFAULT_MAX_TOKENS).put("temperature", TurnRequest.DEFAULT_TEMPERATURE)
                .put("top_p", TurnRequest.DEFAULT_TOP_P).put("repetition_penalty", TurnRequest.DEFAULT_REPETITION_PENALTY);
        out.put("system_prompt", TurnRequest.DEFAULT_SYSTEM_PROMPT);
        ArrayNode tools = out.putArray("tools");
        for (Tool t : Builtins.offered(options.weather().enabled())) {
            tools.add(t.definition());
        }
        SandboxStatus s = sandbox();
        ObjectNode interpreter = out.putObject("interpreter").put("available", s.available());
        if (s.reason() == null) {
            interpreter.putNull("reason");
        } else {
            interpreter.put("reason", s.reason());
        }
        return out.put("max_rounds", options.maxRounds()).put("max_upload", options.maxUploadBytes()).put("ready", backend != null);
    }

    /** Gauges for /metrics, in Prometheus' text format. */
    public String metrics() {
        return gauge("chatglm_agent_conversations", "gauge", "Conversations of the agent API kept now.", conversations.count());
    }

    private static String gauge(String name, String type, String help, long value) {
        return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
    }

    /** Deletes the conversations' folders. */
    @Override
    public void close() {
        conversations.close();
    }

    private enum Kind {
        INFO("GET"), CONVERSATIONS("POST"), CONVERSATION("DELETE");

        final List<String> methods;

        Kind(String... methods) {
            this.methods = List.of(methods);
        }
    }

    /** A parsed path: what it names, and the conversation id where there is one. */
    private record Route(Kind kind, String id) {
        static Route of(String path) {
            if (path.equals("/api/info")) {
                return new Route(Kind.INFO, null);
            }
            if (path.equals(CONVERSATIONS)) {
                return new Route(Kind.CONVERSATIONS, null);
            }
            if (!path.startsWith(CONVERSATIONS + "/")) {
                return null;
            }
            String id = path.substring(CONVERSATIONS.length() + 1);
            return id.isEmpty() || id.contains("/") ? null : new Route(Kind.CONVERSATION, id);
        }
    }
}
