package io.github.chatglm4j.server;

import java.time.Duration;
import java.util.List;

/**
 * How the HTTP server listens and whom it serves.
 *
 * @param host         address to bind (127.0.0.1 keeps the server local, like the reference)
 * @param port         TCP port; 0 picks a free one
 * @param apiKey       the bearer token every request except {@code /health} must carry, or null to accept any
 * @param corsOrigins  browser origins allowed to call the API ({@code *} for any); empty: no CORS headers
 * @param maxBodyBytes largest request body accepted; larger ones get 413
 * @param keepAlive    how long a stream may go without an event before a comment line is sent; it keeps proxies from
 *                     closing the connection and shows a client that left while its prompt was still being computed
 */
public record ServerOptions(String host, int port, String apiKey, List<String> corsOrigins, int maxBodyBytes,
                            Duration keepAlive) {
    /** 8 MiB: far more than a context of text, far less than would hurt the heap. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;
    /** A long prompt on a CPU can take minutes before its first token; this bounds how late a disconnect is noticed. */
    public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(5);

    public ServerOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive, got " + maxBodyBytes);
        }
        if (keepAlive.isNegative() || keepAlive.isZero()) {
            throw new IllegalArgumentException("keepAlive must be positive, got " + keepAlive);
        }
        corsOrigins = List.copyOf(corsOrigins);
        apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
    }

    /** The given address and port, no key, no CORS, default limits. */
    public static ServerOptions of(String host, int port) {
        return new ServerOptions(host, port, null, List.of(), DEFAULT_MAX_BODY_BYTES, DEFAULT_KEEP_ALIVE);
    }

    /** Loopback, the given port, no key, no CORS. */
    public static ServerOptions local(int port) {
        return of("127.0.0.1", port);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, key, corsOrigins, maxBodyBytes, keepAlive);
    }

    public ServerOptions withCorsOrigins(List<String> origins) {
        return new ServerOptions(host, port, apiKey, origins, maxBodyBytes, keepAlive);
    }

    public ServerOptions withMaxBodyBytes(int bytes) {
        return new ServerOptions(host, port, apiKey, corsOrigins, bytes, keepAlive);
    }

    public ServerOptions withKeepAlive(Duration interval) {
        return new ServerOptions(host, port, apiKey, corsOrigins, maxBodyBytes, interval);
    }
}
