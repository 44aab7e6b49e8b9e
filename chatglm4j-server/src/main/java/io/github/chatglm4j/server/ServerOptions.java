package io.github.chatglm4j.server;

import java.util.List;

/**
 * How the HTTP server listens and whom it serves.
 *
 * @param host         address to bind (127.0.0.1 keeps the server local, like the reference)
 * @param port         TCP port; 0 picks a free one
 * @param apiKey       the bearer token every request except {@code /health} must carry, or null to accept any
 * @param corsOrigins  browser origins allowed to call the API ({@code *} for any); empty: no CORS headers
 * @param maxBodyBytes largest request body accepted; larger ones get 413
 */
public record ServerOptions(String host, int port, String apiKey, List<String> corsOrigins, int maxBodyBytes) {
    /** 8 MiB: far more than a context of text, far less than would hurt the heap. */
    public static final int DEFAULT_MAX_BODY_BYTES = 8 << 20;

    public ServerOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive, got " + maxBodyBytes);
        }
        corsOrigins = List.copyOf(corsOrigins);
        apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
    }

    /** Loopback, the given port, no key, no CORS. */
    public static ServerOptions local(int port) {
        return new ServerOptions("127.0.0.1", port, null, List.of(), DEFAULT_MAX_BODY_BYTES);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, key, corsOrigins, maxBodyBytes);
    }

    public ServerOptions withCorsOrigins(List<String> origins) {
        return new ServerOptions(host, port, apiKey, origins, maxBodyBytes);
    }

    public ServerOptions withMaxBodyBytes(int bytes) {
        return new ServerOptions(host, port, apiKey, corsOrigins, bytes);
    }
}
