package io.github.chatglm4j.server;

import java.io.Serial;
import java.util.Map;

/**
 * An error answered in OpenAI's shape: {@code {"error": {"message", "type", "param", "code"}}} with an HTTP status.
 *
 * @see ErrorResponses
 */
final class ApiError extends RuntimeException {
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

    static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null, Map.of());
    }

    static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, "invalid_request_error", message, param, code, Map.of());
    }
}
