package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.generate.QueueFullException;
import io.github.chatglm4j.generate.ContextOverflowException;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.http.HttpError;

import java.util.Map;

/**
 * Every failure a client can see, as OpenAI's error object with the status its clients expect: 400 for anything
 * wrong in the request (no retry), 401 for the key, 404, 405, 413, 503 with {@code Retry-After} when busy or
 * loading (clients retry), 500 only for the server's own faults, never with a stack trace.
 */
final class ErrorResponses {
    /** Seconds a client should wait before retrying when the queue is full or the model is loading. */
    static final int RETRY_AFTER_SECONDS = 1;

    private ErrorResponses() {
    }

    static ObjectNode body(ApiError e) {
        return body(e.getMessage(), e.type, e.param, e.code);
    }

    static ObjectNode body(String message, String type, String param, String code) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        if (param == null) {
            error.putNull("param");
        } else {
            error.put("param", param);
        }
        if (code == null) {
            error.putNull("code");
        } else {
            error.put("code", code);
        }
        return root;
    }

    static ApiError from(InvalidRequestException e) {
        return ApiError.invalid(e.getMessage(), e.param(), e.code());
    }

    /** @param promptParam the request field holding the prompt: {@code messages} or {@code prompt} */
    static ApiError contextOverflow(ContextOverflowException e, String promptParam) {
        return contextOverflow(e.promptTokens(), e.contextSize(), promptParam);
    }

    static ApiError contextOverflow(int promptTokens, int contextSize, String promptParam) {
        return ApiError.invalid("This model's maximum context length is " + contextSize + " tokens, but the prompt is "
                + promptTokens + " tokens (at least one token must be left for the reply). Shorten the " + promptParam + ".",
                promptParam, "context_length_exceeded");
    }

    static ApiError tooManyTokens(int promptTokens, int maxTokens, int contextSize, String param) {
        // long: max_tokens may be 2^31 - 1, and the sum must not wrap around
        return ApiError.invalid("This model's maximum context length is " + contextSize + " tokens. However, you requested "
                + ((long) promptTokens + maxTokens) + " tokens (" + promptTokens + " in the prompt, " + maxTokens
                + " for the reply). Reduce the prompt or " + param + ".", param, "context_length_exceeded");
    }

    /** A refusal of the transport raised while a handler read its body (413, 400, 408). */
    static ApiError transport(HttpError e) {
        return new ApiError(e.status(), e.status() >= 500 ? "server_error" : "invalid_request_error", e.getMessage(), null,
                e.code(), Map.of());
    }

    /** A Host header that names neither this server nor an allowed host: how DNS rebinding attacks look. */
    static ApiError hostNotAllowed(String host) {
        return new ApiError(403, "invalid_request_error", "The Host '" + HttpError.printable(host, 80) + "' is not one this server answers to"
                + " (localhost and the address it listens on; add others with --allowed-host).", null, "host_not_allowed", Map.of());
    }

    static ApiError busy(QueueFullException e) {
        return new ApiError(503, "server_error", e.getMessage(), null, "server_busy",
                Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }

    static ApiError loading() {
        return new ApiError(503, "unavailable_error", "Loading model", null, "model_loading",
                Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }

    static ApiError unauthorized(boolean keyGiven) {
        return new ApiError(401, "invalid_request_error", keyGiven
                ? "Incorrect API key provided."
                : "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.",
                null, "invalid_api_key", Map.of("WWW-Authenticate", "Bearer"));
    }

    static ApiError unknownRoute(String method, String path) {
        return new ApiError(404, "invalid_request_error", "Unknown request URL: " + method + " " + path
                + ". This server offers /v1/chat/completions, /v1/completions, /v1/models, /tokenize, /detokenize, /health, /metrics and /api/.",
                null, "unknown_url", Map.of());
    }

    static ApiError methodNotAllowed(String method, String path, String allow) {
        return new ApiError(405, "invalid_request_error", method + " is not allowed for " + path + " (allowed: " + allow + ")",
                null, "method_not_allowed", Map.of("Allow", allow));
    }

    static ApiError unknownModel(String requested, String served) {
        return new ApiError(404, "invalid_request_error", "The model '" + requested + "' does not exist; this server serves '"
                + served + "'.", "model", "model_not_found", Map.of());
    }

    static ApiError tooLarge(long limit) {
        return new ApiError(413, "invalid_request_error", "The request body is larger than " + limit + " bytes.",
                null, "request_too_large", Map.of());
    }

    static ApiError stopping() {
        return new ApiError(503, "server_error", "The request was cancelled: the server is stopping.", null, "server_stopping",
                Map.of("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }

    static ApiError internal() {
        return new ApiError(500, "server_error", "The server had an error while processing the request.", null, null, Map.of());
    }
}
