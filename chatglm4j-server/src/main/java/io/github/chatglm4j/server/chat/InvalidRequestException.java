package io.github.chatglm4j.server.chat;

import java.io.Serial;

/**
 * A request the server cannot honour as sent: answered with HTTP 400 and OpenAI's error object, naming the
 * offending parameter ({@code messages[2].content}, {@code n}, ...) so that the client can fix it.
 */
public final class InvalidRequestException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String param;
    private final String code;

    public InvalidRequestException(String param, String message) {
        this(param, message, null);
    }

    /** @param code OpenAI's machine-readable code, e.g. {@code context_length_exceeded}, or null */
    public InvalidRequestException(String param, String message, String code) {
        super(message, null, false, false);
        this.param = param;
        this.code = code;
    }

    /** The parameter at fault (a JSON path into the request), or null. */
    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
