package io.github.chatglm4j.cli;

import java.io.Serial;

/** A failure to report as one line {@code chatglm: <message>} with exit code 1 (not a usage error, not a bug). */
final class CliException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
