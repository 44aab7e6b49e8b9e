package io.github.chatglm4j.server.http;

/**
 * Turns an error the transport answers by itself (malformed HTTP, timeouts, too many connections) into a body in the
 * server's error format, so that a client never sees another shape than the handlers' own errors.
 */
@FunctionalInterface
public interface ErrorRenderer {
    /** The body of an error; {@code code} may be null. */
    Rendered render(int status, String message, String code);

    /** A rendered body and its content type. */
    record Rendered(String contentType, byte[] body) {
    }
}
