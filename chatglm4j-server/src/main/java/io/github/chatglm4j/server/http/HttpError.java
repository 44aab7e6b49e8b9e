package io.github.chatglm4j.server.http;

import java.io.Serial;

/**
 * A request the transport refuses (malformed HTTP, too large, too slow): answered with {@code status} and a short
 * message through the server's {@link ErrorRenderer}, never with a stack trace.
 */
public final class HttpError extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;

    /**
     * @param code a machine-readable code for the error body (e.g. {@code request_too_large}), or null
     */
    public HttpError(int status, String message, String code) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /**
     * Client-sent text as an error message may echo it: at most {@code max} characters, anything but printable ASCII
     * as '?' (no control characters or terminal escapes reach a client's screen or the log); "" for null.
     */
    public static String printable(String s, int max) {
        if (s == null) {
            return "";
        }
        var out = new StringBuilder();
        for (int i = 0; i < s.length() && i < max; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    static HttpError badRequest(String message) {
        return new HttpError(400, message, "invalid_http_request");
    }
}
