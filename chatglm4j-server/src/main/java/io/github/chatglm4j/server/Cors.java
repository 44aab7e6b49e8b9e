package io.github.chatglm4j.server;

import java.io.IOException;
import java.util.List;

/**
 * Cross-origin access for browser clients (e.g. a chat UI served from elsewhere). Only the configured origins get
 * the allow headers; {@code *} allows any. With no origins configured, no CORS header is ever sent, so browsers on
 * other origins cannot read the API.
 */
final class Cors {
    private static final String METHODS = "GET, POST, OPTIONS";
    private static final String HEADERS = "Authorization, Content-Type";

    private final List<String> origins;

    Cors(List<String> origins) {
        this.origins = origins;
    }

    /** Adds the response headers for an allowed origin; returns false for a cross-origin request that is not allowed. */
    boolean apply(Exchange ex) {
        String origin = ex.header("Origin");
        if (origin == null) {
            return true;
        }
        if (origins.contains("*")) {
            ex.setHeader("Access-Control-Allow-Origin", "*");
            return true;
        }
        if (origins.contains(origin)) {
            ex.setHeader("Access-Control-Allow-Origin", origin);
            ex.setHeader("Vary", "Origin");
            return true;
        }
        return false;
    }

    /** Answers an OPTIONS request: a preflight from an allowed origin gets the allowed methods and headers. */
    void options(Exchange ex, boolean allowed) throws IOException {
        ex.setHeader("Allow", METHODS);
        if (ex.header("Origin") != null && ex.header("Access-Control-Request-Method") != null) {
            if (!allowed) {
                ex.error(new ApiError(403, "invalid_request_error", "Cross-origin requests from " + ex.header("Origin")
                        + " are not allowed (see --cors-origin).", null, "cors_origin_not_allowed", java.util.Map.of()));
                return;
            }
            ex.setHeader("Access-Control-Allow-Methods", METHODS);
            String requested = ex.header("Access-Control-Request-Headers");
            ex.setHeader("Access-Control-Allow-Headers", requested == null || requested.isBlank() ? HEADERS : requested);
            ex.setHeader("Access-Control-Max-Age", "600");
        }
        ex.empty(204);
    }
}
