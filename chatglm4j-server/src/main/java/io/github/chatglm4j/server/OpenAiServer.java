package io.github.chatglm4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.github.chatglm4j.server.agent.AgentApi;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.http.ErrorRenderer;
import io.github.chatglm4j.server.http.HttpError;
import io.github.chatglm4j.server.http.HttpExchange;
import io.github.chatglm4j.server.http.HttpListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Objects;

/**
 * An OpenAI-compatible HTTP server over the engine: {@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/models}, {@code /tokenize}, {@code /detokenize}, {@code /health} and {@code /metrics}; the agent API
 * of the web UI under {@code /api/} ({@link AgentApi}); and the web UI at {@code /} ({@link WebUi}).
 *
 * <pre>{@code
 * OpenAiServer server = OpenAiServer.start(ServerOptions.local(8000));   // /health answers 503: loading
 * ChatGLM glm = ChatGLM.load(dir, LoadOptions.defaults().withParallel(4).withQueue(64));
 * server.ready(Backend.of(glm, "chatglm3-6b"));                          // now 200 and serving
 * ...
 * server.close(); glm.close();
 * }</pre>
 *
 * <p>Built on the project's own small HTTP/1.1 transport ({@link HttpListener}): one virtual thread per connection,
 * deadlines on every read and write, a connection cap, and every answer, protocol errors included, in OpenAI's
 * error format. Requests are checked (Host, Origin, key) before any work, and their parsing and tokenizing run on
 * the bounded {@link Admission} threads.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");

    private final ServerOptions options;
    private final HttpListener http;
    private final Cors cors;
    private final HostPolicy hosts;
    private final Admission admission;
    private final ServerState state = new ServerState();
    private final ChatEndpoint chat;
    private final CompletionsEndpoint completions;
    private final AgentApi agent;
    private final WebUi webUi = new WebUi();
    private volatile Backend backend;

    private OpenAiServer(ServerOptions options, Admission admission) throws IOException {
        this.options = options;
        this.cors = new Cors(options.corsOrigins());
        this.admission = admission;
        this.chat = new ChatEndpoint(state, admission, options.keepAlive().toNanos());
        this.completions = new CompletionsEndpoint(state, admission, options.keepAlive().toNanos());
        this.agent = new AgentApi(options.agent(), admission, options.keepAlive().toNanos(), options.apiKey() != null);
        int[] port = {0};
        this.hosts = new HostPolicy(options.host(), options.allowedHosts(), () -> port[0]);
        try {
            this.http = HttpListener.start(new InetSocketAddress(options.host(), options.port()), options.limits(), this::handle,
                    OpenAiServer::renderError);
        } catch (IOException | RuntimeException e) {
            agent.close();
            throw e;
        }
        port[0] = http.port();
    }

    /**
     * Binds and starts serving. Until {@link #ready} is called, {@code /health} answers 503 and model endpoints
     * 503 with {@code Retry-After}.
     *
     * @throws UncheckedIOException if the address cannot be bound (e.g. the port is taken)
     * @throws IllegalArgumentException if an allowed host is not a valid host name
     */
    public static OpenAiServer start(ServerOptions options) {
        return start(options, new Admission(options.admissionThreads(), admissionCapacity(), options.admissionTimeout()));
    }

    /** With a given admission stage (tests hold its workers). */
    static OpenAiServer start(ServerOptions options, Admission admission) {
        try {
            return new OpenAiServer(options, admission);
        } catch (IOException e) {
            admission.close();
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        } catch (UnresolvedAddressException e) {
            admission.close();
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": unknown host",
                    new IOException(e));
        } catch (RuntimeException e) {
            admission.close();
            throw e;
        }
    }

    /** Requests being read and checked at once, or waiting for it, before 503: many more than the workers. */
    static int admissionCapacity() {
        return 256;
    }

    /** Starts serving requests with this backend. */
    public void ready(Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** The bound port (the chosen one when started with port 0). */
    public int port() {
        return http.port();
    }

    /** The base URL clients use, e.g. {@code http://127.0.0.1:8000/v1}. */
    public String baseUrl() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port() + "/v1";
    }

    /** The web UI's address, e.g. {@code http://127.0.0.1:8000/}. */
    public String pageUrl() {
        return baseUrl().substring(0, baseUrl().length() - "v1".length());
    }

    /** Requests that ended with the given OpenAI finish reason, or {@code cancelled} (client gone) / {@code error}. */
    public long finishedCount(String outcome) {
        return state.metrics().finishedCount(outcome);
    }

    /** Keep-alive comments sent so far (for tests). */
    long keepAlives() {
        return state.metrics().keepAlives();
    }

    /** Requests whose client left before the answer ended (for tests). */
    long clientsGone() {
        return state.metrics().clientsGone();
    }

    /** Connections open now (for tests). */
    int openConnections() {
        return http.openConnections();
    }

    /**
     * Whether the agent API can run code here (the interpreter, get_shell): null if it can, else why not. Checked once,
     * on first need; {@code chatglm serve} asks at start to report it.
     */
    public String sandboxProblem() {
        return agent.sandboxProblem();
    }

    /**
     * Stops listening, cancels the requests still generating and closes the connections; stops the agent API's turns
     * and workers and deletes its conversations' folders.
     */
    @Override
    public void close() {
        state.cancelAll();
        agent.close();
        http.close();
        admission.close();
    }

    private void handle(HttpExchange exchange) throws IOException {
        var ex = new Exchange(exchange, options.maxBodyBytes());
        String route = "unknown";
        try {
            if (!hosts.allows(exchange.request().host())) {
                throw ErrorResponses.hostNotAllowed(exchange.request().host());
            }
            boolean allowed = cors.apply(ex);
            String path = ex.path();
            Route r = Route.of(path);
            route = r == null ? "unknown" : r == Route.API ? AgentApi.routeName(path) : r.name;
            if (ex.method().equals("OPTIONS")) {
                cors.options(ex, allowed);
                return;
            }
            Cors.checkStateChanging(ex, allowed);
            if (r == null && WebUi.owns(path)) {
                route = "web";
                servePage(exchange, ex, path);
                return;
            }
            if (r == null) {
                throw ErrorResponses.unknownRoute(ex.method(), path);
            }
            if (r == Route.API) {
                if (AgentApi.needsKey(path)) {
                    authorize(ex);
                }
                Backend b = backend;
                if (b == null && AgentApi.needsModel(path)) {
                    throw ErrorResponses.loading();
                }
                agent.handle(ex, b);
                return;
            }
            if (!r.method.equals(ex.method())) {
                throw ErrorResponses.methodNotAllowed(ex.method(), path, r.method + ", OPTIONS");
            }
            if (r != Route.HEALTH) {
                authorize(ex);
            }
            dispatch(r, ex, path);
        } catch (ApiError e) {
            respond(ex, e);
        } catch (InvalidRequestException e) {
            respond(ex, ErrorResponses.from(e));
        } catch (HttpError e) {
            respond(ex, ErrorResponses.transport(e));
        } catch (IOException e) {
            // the client went away while we answered: nothing left to tell it
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "error while handling " + ex.method() + " " + ex.path(), e);
            respond(ex, ErrorResponses.internal());
        } finally {
            state.metrics().request(route, ex.status());
        }
    }

    private void dispatch(Route r, Exchange ex, String path) throws IOException {
        if (r == Route.HEALTH) {
            if (backend == null) {
                throw ErrorResponses.loading();
            }
            ex.json(200, JsonNodeFactory.instance.objectNode().put("status", "ok"));
            return;
        }
        if (r == Route.METRICS) {
            Backend b = backend;
            ex.text(200, "text/plain; version=0.0.4; charset=utf-8", state.metrics().render(b == null ? null : b.scheduler().stats(),
                    http.openConnections(), http.refusedConnections(), http.protocolErrors()) + agent.metrics());
            return;
        }
        Backend b = backend;
        if (b == null) {
            throw ErrorResponses.loading();
        }
        switch (r) {
            case CHAT -> chat.handle(ex, b);
            case COMPLETIONS -> completions.handle(ex, b);
            case MODELS -> Endpoints.models(ex, b);
            case MODEL -> Endpoints.model(ex, b, path.substring(path.indexOf("/models/") + "/models/".length()));
            case TOKENIZE -> Endpoints.tokenize(ex, b, admission);
            case DETOKENIZE -> Endpoints.detokenize(ex, b, admission);
            default -> throw new IllegalStateException(r.name());
        }
    }

    /** The web UI's files: GET or HEAD, no key needed (the page asks for it when the API answers 401). */
    private void servePage(HttpExchange exchange, Exchange ex, String path) throws IOException {
        if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
            throw ErrorResponses.methodNotAllowed(ex.method(), path, "GET, HEAD, OPTIONS");
        }
        if (!webUi.serve(exchange, path)) {
            throw ErrorResponses.unknownRoute(ex.method(), path);
        }
    }

    /** With a key configured, every request but /health and preflights must carry it as a bearer token. */
    private void authorize(Exchange ex) {
        if (options.apiKey() == null) {
            return;
        }
        String header = ex.header("Authorization");
        String given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : null;
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                options.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw ErrorResponses.unauthorized(given != null);
        }
    }

    private static void respond(Exchange ex, ApiError e) {
        if (ex.status() >= 0) {
            return; // already answering (e.g. mid-stream): the connection is closed instead
        }
        try {
            ex.error(e);
        } catch (IOException ignored) {
            // the client is gone
        }
    }

    /** The transport's own refusals (malformed HTTP, timeouts, too many connections) in OpenAI's error format. */
    private static ErrorRenderer.Rendered renderError(int status, String message, String code) {
        String type = status >= 500 ? "server_error" : "invalid_request_error";
        try {
            return new ErrorRenderer.Rendered("application/json",
                    Exchange.JSON.writeValueAsBytes(ErrorResponses.body(message, type, null, code)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The routes; the paths without {@code /v1} are accepted too, for clients configured with the bare host. */
    private enum Route {
        HEALTH("GET", "health"), METRICS("GET", "metrics"), MODELS("GET", "models"), MODEL("GET", "model"),
        CHAT("POST", "chat_completions"), COMPLETIONS("POST", "completions"),
        TOKENIZE("POST", "tokenize"), DETOKENIZE("POST", "detokenize"),
        /** The agent API, which routes its own paths and methods. */
        API("*", "api");

        private static final Map<String, Route> PATHS = Map.ofEntries(
                Map.entry("/health", HEALTH), Map.entry("/metrics", METRICS),
                Map.entry("/v1/models", MODELS), Map.entry("/models", MODELS),
                Map.entry("/v1/chat/completions", CHAT), Map.entry("/chat/completions", CHAT),
                Map.entry("/v1/completions", COMPLETIONS), Map.entry("/completions", COMPLETIONS),
                Map.entry("/tokenize", TOKENIZE), Map.entry("/detokenize", DETOKENIZE));

        final String method;
        final String name;

        Route(String method, String name) {
            this.method = method;
            this.name = name;
        }

        static Route of(String path) {
            Route r = PATHS.get(path);
            if (r == null && (path.startsWith("/v1/models/") || path.startsWith("/models/")) && !path.endsWith("/")) {
                return MODEL;
            }
            if (r == null && AgentApi.owns(path)) {
                return API;
            }
            return r;
        }
    }
}
