package io.github.chatglm4j.server;

import io.github.chatglm4j.server.agent.AgentApiOptions;
import io.github.chatglm4j.server.http.HttpLimits;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How the HTTP server listens and whom it serves.
 *
 * @param host             address to bind (127.0.0.1 keeps the server local, like the reference)
 * @param port             TCP port; 0 picks a free one
 * @param apiKey           the bearer token every request except {@code /health} must carry, or null to accept any
 * @param corsOrigins      browser origins allowed to call the API ({@code *} for any); empty: no CORS headers, and
 *                         state-changing requests from other origins are refused
 * @param allowedHosts     Host header values accepted besides the bound address and localhost ({@code name} for any
 *                         port, {@code name:port}, or {@code *} for any host); everything else is refused (DNS rebinding)
 * @param limits           what one connection may cost: timeouts, sizes, the connection cap
 * @param keepAlive        how long a stream may go without an event before a comment line is sent; it keeps proxies
 *                         from closing the connection
 * @param admissionThreads threads that parse, check and tokenize requests before they are queued (fewer than the
 *                         processors, so that the connections, /health and /metrics always find a free one)
 * @param admissionTimeout the longest a request may wait for and spend in that work before it is refused (503)
 * @param agent            the agent API's limits (workers, idle times, uploads, tools)
 */
public record ServerOptions(String host, int port, String apiKey, List<String> corsOrigins, List<String> allowedHosts,
                            HttpLimits limits, Duration keepAlive, int admissionThreads, Duration admissionTimeout,
                            AgentApiOptions agent) {
    /** 8 MiB: far more than a context of text, far less than would hurt the heap. */
    public static final int DEFAULT_MAX_BODY_BYTES = HttpLimits.DEFAULT_MAX_BODY_BYTES;
    /** A long prompt on a CPU can take minutes before its first token; this bounds how late a proxy sees traffic. */
    public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(5);
    public static final Duration DEFAULT_ADMISSION_TIMEOUT = Duration.ofSeconds(30);

    public ServerOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (keepAlive.isNegative() || keepAlive.isZero()) {
            throw new IllegalArgumentException("keepAlive must be positive, got " + keepAlive);
        }
        if (admissionThreads < 1) {
            throw new IllegalArgumentException("admissionThreads must be at least 1, got " + admissionThreads);
        }
        if (admissionTimeout.isNegative() || admissionTimeout.isZero()) {
            throw new IllegalArgumentException("admissionTimeout must be positive, got " + admissionTimeout);
        }
        Objects.requireNonNull(agent, "agent");
        corsOrigins = List.copyOf(corsOrigins);
        allowedHosts = List.copyOf(allowedHosts);
        apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
    }

    /** The given address and port, no key, no CORS, default limits. */
    public static ServerOptions of(String host, int port) {
        return new ServerOptions(host, port, null, List.of(), List.of(), HttpLimits.defaults(), DEFAULT_KEEP_ALIVE,
                defaultAdmissionThreads(), DEFAULT_ADMISSION_TIMEOUT, AgentApiOptions.DEFAULTS);
    }

    /** Loopback, the given port, no key, no CORS. */
    public static ServerOptions local(int port) {
        return of("127.0.0.1", port);
    }

    /** Half the processors, at least one: the other half stays free for connections and generation. */
    static int defaultAdmissionThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    /** Largest request body accepted; larger ones get 413. */
    public int maxBodyBytes() {
        return limits.maxBodyBytes();
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, key, corsOrigins, allowedHosts, limits, keepAlive, admissionThreads, admissionTimeout, agent);
    }

    public ServerOptions withCorsOrigins(List<String> origins) {
        return new ServerOptions(host, port, apiKey, origins, allowedHosts, limits, keepAlive, admissionThreads, admissionTimeout, agent);
    }

    public ServerOptions withAllowedHosts(List<String> hosts) {
        return new ServerOptions(host, port, apiKey, corsOrigins, hosts, limits, keepAlive, admissionThreads, admissionTimeout, agent);
    }

    public ServerOptions withLimits(HttpLimits l) {
        return new ServerOptions(host, port, apiKey, corsOrigins, allowedHosts, l, keepAlive, admissionThreads, admissionTimeout, agent);
    }

    public ServerOptions withMaxBodyBytes(int bytes) {
        return withLimits(limits.withMaxBodyBytes(bytes));
    }

    public ServerOptions withKeepAlive(Duration interval) {
        return new ServerOptions(host, port, apiKey, corsOrigins, allowedHosts, limits, interval, admissionThreads, admissionTimeout, agent);
    }

    public ServerOptions withAgent(AgentApiOptions options) {
        return new ServerOptions(host, port, apiKey, corsOrigins, allowedHosts, limits, keepAlive, admissionThreads, admissionTimeout, options);
    }

    public ServerOptions withAdmission(int threads, Duration timeout) {
        return new ServerOptions(host, port, apiKey, corsOrigins, allowedHosts, limits, keepAlive, threads, timeout, agent);
    }
}
