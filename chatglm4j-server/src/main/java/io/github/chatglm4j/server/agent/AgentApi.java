package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.sandbox.Sandbox;
import io.github.chatglm4j.agent.tool.Tool;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.server.Admission;
import io.github.chatglm4j.server.ApiError;
import io.github.chatglm4j.server.Backend;
import io.github.chatglm4j.server.Exchange;
import io.github.chatglm4j.server.PromptBudget;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.chat.RequestJson;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The agent API the web UI uses ({@code /api/...}): conversations with the model, with tools or the code interpreter,
 * streamed turn by turn; the files of each conversation; the server's facts. The browser keeps the history; the server
 * keeps, per conversation, a folder and a Python worker. The server's router checks Host, Origin and the API key
 * before it hands a request here ({@code /api/info} needs no key).
 *
 * <pre>{@code
 * POST /api/conversations                       -> 201 {"id": "c-..."}
 * POST /api/conversations/{id}/turn             -> text/event-stream of {"type": "text" | "call" | ... | "done"}
 * PUT  /api/conversations/{id}/files/data.csv   -> 201 {"name", "size", "path", "announcement"}
 * }</pre>
 */
public final class AgentApi implements AutoCloseable {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String CONVERSATIONS = "/api/conversations";

    private final AgentApiOptions options;
    private final Admission admission;
    private final long keepAliveNanos;
    private final boolean auth;
    private final Conversations conversations;
    private final ScheduledExecutorService reaper;
    private SandboxStatus sandbox;

    /**
     * @param admission      where request bodies are parsed and checked, off the connections' threads
     * @param keepAliveNanos how long a turn's stream may go without an event before a comment line is sent
     * @param auth           whether the server requires an API key (reported by /api/info)
     */
    public AgentApi(AgentApiOptions options, Admission admission, long keepAliveNanos, boolean auth) {
        this.options = options;
        this.admission = admission;
        this.keepAliveNanos = keepAliveNanos;
        this.auth = auth;
        this.conversations = new Conversations(options);
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("chatglm-agent-reaper").daemon().unstarted(r));
        long period = Math.clamp(Math.min(options.workerIdle().toMillis(), options.conversationIdle().toMillis()) / 2, 1_000, 60_000);
        reaper.scheduleWithFixedDelay(conversations::reap, period, period, TimeUnit.MILLISECONDS);
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
        conversations.reap();
        Route r = Route.of(ex.path());
        if (r == null) {
            throw ApiError.of(404, "unknown_url", "Unknown request URL: " + ex.method() + " " + ex.path() + ". The agent API offers "
                    + "/api/info, /api/conversations, /api/conversations/{id}, .../turn, .../stop, .../files and .../files/{name}.");
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
            case TURN -> turn(ex, backend, r.id);
            case STOP -> {
                conversations.stop(r.id);
                ex.empty(204);
            }
            case FILES -> {
                try (var use = conversations.use(r.id)) {
                    ex.json(200, ConversationFiles.list(use.conversation));
                }
            }
            case FILE -> {
                try (var use = conversations.use(r.id)) {
                    if (ex.method().equals("PUT")) {
                        ex.json(201, ConversationFiles.upload(ex, use.conversation, checkedSandbox(), r.file, options.maxUploadBytes()));
                    } else {
                        ConversationFiles.download(ex, use.conversation, checkedSandbox(), r.file, (int) options.maxUploadBytes());
                    }
                }
            }
        }
    }

    /** The sandbox where one runs, else null. */
    private Sandbox checkedSandbox() {
        return sandbox().sandbox();
    }

    /** A turn's request, read and checked. */
    private record Admitted(TurnRequest request, ChatMessage system) {
    }

    private void turn(Exchange ex, Backend backend, String id) throws IOException {
        conversations.check(id); // 404 before the body is read and checked
        byte[] body = ex.body();
        Admitted a = admission.run(() -> admit(body, backend));
        var control = new TurnControl();
        // the sandbox is checked only for a turn that runs code (the check starts programs)
        Conversations.Use use = conversations.beginTurn(id, a.request().needsWorker() && sandbox().available(), control);
        AgentTurnStream.run(ex, backend, options, this::sandbox, conversations, a.request(), a.system(), use, control, keepAliveNanos);
    }

    /** The CPU work before a turn starts (on an admission thread): parse, check, refuse what cannot fit the context. */
    private Admitted admit(byte[] body, Backend backend) {
        var json = RequestJson.parse(body, "The request body", null);
        if (json == null || !json.isObject()) {
            throw new InvalidRequestException(null, "The request body must be a JSON object.");
        }
        TurnRequest request = TurnRequest.parse((ObjectNode) json, options.weather().enabled());
        ChatMessage system = AgentTurnStream.systemMessage(request);
        var all = new ArrayList<ChatMessage>();
        if (system != null) {
            all.add(system);
        }
        all.addAll(request.history());
        all.add(request.message());
        PromptBudget.checkMessages(backend, all);
        return new Admitted(request, system);
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
        return gauge("chatglm_agent_conversations", "gauge", "Conversations of the agent API kept now.", conversations.count())
                + gauge("chatglm_agent_workers", "gauge", "Python workers (one per conversation using the interpreter) now.", conversations.workers())
                + gauge("chatglm_agent_turns_running", "gauge", "Agent turns running now.", conversations.turnsRunning())
                + gauge("chatglm_agent_workers_refused_total", "counter", "Turns refused because every worker place was taken.",
                conversations.workersRefused());
    }

    private static String gauge(String name, String type, String help, long value) {
        return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
    }

    /** Stops every turn and worker and deletes the conversations' folders. */
    @Override
    public void close() {
        reaper.shutdownNow();
        conversations.close();
    }

    private enum Kind {
        INFO("GET"), CONVERSATIONS("POST"), CONVERSATION("DELETE"), TURN("POST"), STOP("POST"), FILES("GET"), FILE("GET", "PUT");

        final List<String> methods;

        Kind(String... methods) {
            this.methods = List.of(methods);
        }
    }

    /** A parsed path: what it names, the conversation id and the file path where there is one. */
    private record Route(Kind kind, String id, String file) {
        static Route of(String path) {
            if (path.equals("/api/info")) {
                return new Route(Kind.INFO, null, null);
            }
            if (path.equals(CONVERSATIONS)) {
                return new Route(Kind.CONVERSATIONS, null, null);
            }
            if (!path.startsWith(CONVERSATIONS + "/")) {
                return null;
            }
            String rest = path.substring(CONVERSATIONS.length() + 1);
            int slash = rest.indexOf('/');
            String id = slash < 0 ? rest : rest.substring(0, slash);
            String sub = slash < 0 ? null : rest.substring(slash + 1);
            if (id.isEmpty()) {
                return null;
            }
            if (sub == null) {
                return new Route(Kind.CONVERSATION, id, null);
            }
            return switch (sub) {
                case "turn" -> new Route(Kind.TURN, id, null);
                case "stop" -> new Route(Kind.STOP, id, null);
                case "files" -> new Route(Kind.FILES, id, null);
                default -> sub.startsWith("files/") ? new Route(Kind.FILE, id, sub.substring("files/".length())) : null;
            };
        }
    }
}
