package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.chatglm4j.server.chat.InvalidRequestException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An OpenAI-compatible HTTP server over the engine: {@code /v1/chat/completions}, {@code /v1/completions},
 * {@code /v1/models}, {@code /tokenize}, {@code /detokenize}, {@code /health} and {@code /metrics}.
 *
 * <pre>{@code
 * OpenAiServer server = OpenAiServer.start(ServerOptions.local(8000));   // /health answers 503: loading
 * ChatGLM glm = ChatGLM.load(dir);
 * BatchScheduler scheduler = glm.newScheduler(4, 64);
 * server.ready(Backend.of(glm, "chatglm3-6b", scheduler));              // now 200 and serving
 * ...
 * server.close(); scheduler.close(); glm.close();
 * }</pre>
 *
 * <p>Built on the JDK's {@code com.sun.net.httpserver} with one virtual thread per exchange, so a handler simply
 * blocks while its request generates. Every answer, including 404, 405 and 413, is OpenAI's error object.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.github.chatglm4j.server");

    private final ServerOptions options;
    private final HttpServer http;
    private final ExecutorService executor;
    private final Cors cors;
    private final ServerState state = new ServerState();
    private final ChatEndpoint chat;
    private final CompletionsEndpoint completions;
    private volatile Backend backend;

    private OpenAiServer(ServerOptions options) throws IOException {
        this.options = options;
        this.cors = new Cors(options.corsOrigins());
        this.chat = new ChatEndpoint(state, options.keepAlive().toNanos());
        this.completions = new CompletionsEndpoint(state, options.keepAlive().toNanos());
        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
        this.executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.createContext("/", this::handle);
    }

    /**
     * Binds and starts serving. Until {@link #ready} is called, {@code /health} answers 503 and model endpoints
     * 503 with {@code Retry-After}.
     *
     * @throws UncheckedIOException if the address cannot be bound (e.g. the port is taken)
     */
    public static OpenAiServer start(ServerOptions options) {
        try {
            OpenAiServer server = new OpenAiServer(options);
            server.http.start();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        } catch (UnresolvedAddressException e) {
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": unknown host",
                    new IOException(e));
        }
    }

    /** Starts serving requests with this backend. */
    public void ready(Backend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** The bound port (the chosen one when started with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The base URL clients use, e.g. {@code http://127.0.0.1:8000/v1}. */
    public String baseUrl() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port() + "/v1";
    }

    /** Requests that ended with the given OpenAI finish reason, or {@code cancelled} (client gone) / {@code error}. */
    public long finishedCount(String outcome) {
        return state.metrics().finishedCount(outcome);
    }

    /** Keep-alive comments sent so far (for tests). */
    long keepAlives() {
        return state.metrics().keepAlives();
    }

    /** Stops listening, cancels the requests still generating and closes the connections. */
    @Override
    public void close() {
        state.cancelAll();
        http.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) {
        var ex = new Exchange(exchange, options.maxBodyBytes());
        String route = "unknown";
        try {
            boolean allowed = cors.apply(ex);
            String path = ex.path();
            Route r = Route.of(path);
            route = r == null ? "unknown" : r.name;
            if (ex.method().equals("OPTIONS")) {
                cors.options(ex, allowed);
                return;
            }
            if (r == null) {
                throw ErrorResponses.unknownRoute(ex.method(), path);
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
        } catch (IOException e) {
            // the client went away while we answered: nothing left to tell it
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "error while handling " + ex.method() + " " + ex.path(), e);
            respond(ex, ErrorResponses.internal());
        } finally {
            state.metrics().request(route, ex.status());
            exchange.close();
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
            ex.text(200, "text/plain; version=0.0.4; charset=utf-8", state.metrics().render(b == null ? null : b.scheduler().stats()));
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
            case TOKENIZE -> Endpoints.tokenize(ex, b);
            case DETOKENIZE -> Endpoints.detokenize(ex, b);
            default -> throw new IllegalStateException(r.name());
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

    /** The routes; the paths without {@code /v1} are accepted too, for clients configured with the bare host. */
    private enum Route {
        HEALTH("GET", "health"), METRICS("GET", "metrics"), MODELS("GET", "models"), MODEL("GET", "model"),
        CHAT("POST", "chat_completions"), COMPLETIONS("POST", "completions"),
        TOKENIZE("POST", "tokenize"), DETOKENIZE("POST", "detokenize");

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
            return r;
        }
    }
}
