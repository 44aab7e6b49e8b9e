package io.github.chatglm4j.server;

import io.github.chatglm4j.server.http.HostName;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * Cross-origin access for browser clients (e.g. a chat UI served from elsewhere). Only the configured origins get
 * the allow headers; {@code *} allows any. CORS alone only hides replies from other origins: a page can still send a
 * "simple" POST ({@code text/plain}) that the server would execute, so every state-changing request whose
 * {@code Origin} is neither allowed nor the server's own is refused before it runs.
 */
final class Cors {
    private static final String METHODS = "GET, POST, PUT, DELETE, OPTIONS";
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
        return sameOrigin(origin, ex.header("Host"));
    }

    /**
     * Refuses a request that changes state (anything but GET, HEAD and OPTIONS) from a browser page of another
     * origin, whatever its content type: it must not run at all, not merely have its reply hidden.
     */
    static void checkStateChanging(Exchange ex, boolean allowed) {
        String m = ex.method();
        if (allowed || m.equals("GET") || m.equals("HEAD") || m.equals("OPTIONS")) {
            return;
        }
        throw notAllowed(ex.header("Origin"));
    }

    /** Answers an OPTIONS request: a preflight from an allowed origin gets the allowed methods and headers. */
    void options(Exchange ex, boolean allowed) throws IOException {
        ex.setHeader("Allow", METHODS);
        if (ex.header("Origin") != null && ex.header("Access-Control-Request-Method") != null) {
            if (!allowed) {
                ex.error(notAllowed(ex.header("Origin")));
                return;
            }
            ex.setHeader("Access-Control-Allow-Methods", METHODS);
            String requested = ex.header("Access-Control-Request-Headers");
            ex.setHeader("Access-Control-Allow-Headers", requested == null || requested.isBlank() ? HEADERS : requested);
            ex.setHeader("Access-Control-Max-Age", "600");
        }
        ex.empty(204);
    }

    private static ApiError notAllowed(String origin) {
        return new ApiError(403, "invalid_request_error", "Cross-origin requests from " + origin
                + " are not allowed (see --cors-origin).", null, "cors_origin_not_allowed", Map.of());
    }

    /** A page served by this server itself (the Host was already checked): scheme http, same host and port. */
    private static boolean sameOrigin(String origin, String host) {
        if (host == null) {
            return false;
        }
        try {
            URI uri = new URI(origin);
            if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getRawAuthority() == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
                return false;
            }
            HostName o = HostName.parse(uri.getRawAuthority());
            HostName h = HostName.parse(host);
            return o != null && o.equals(h);
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }
}
