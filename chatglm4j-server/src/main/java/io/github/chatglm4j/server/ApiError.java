package io.github.chatglm4j.server;

import java.io.Serial;
import java.util.Map;

/**
 * An error answered in OpenAI's shape: {@code {"error": {"message", "type", "param", "code"}}} with an HTTP status.
 * Public for the endpoint packages of this module ({@code server.agent}).
 *
 * @see ErrorResponses
 */
public final class ApiError extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;
    final transient Map<String, String> headers;

    ApiError(int status, String type, String message, String param, String code, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    /**
     * An error with the type OpenAI's clients expect for the status: {@code server_error} from 500 on,
     * {@code invalid_request_error} below.
     */
    public static ApiError of(int status, String code, String message) {
        return new ApiError(status, status >= 500 ? "server_error" : "invalid_request_error", message, null, code, Map.of());
    }

    /** A 503 that clients should retry after a moment. */
    public static ApiError unavailable(String code, String message) {
        return new ApiError(503, "server_error", message, null, code,
                Map.of("Retry-After", Integer.toString(ErrorResponses.RETRY_AFTER_SECONDS)));
    }

    static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null, Map.of());
    }

    static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, "invalid_request_error", message, param, code, Map.of());
    }
}
