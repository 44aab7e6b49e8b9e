package io.github.chatglm4j.cli;

/** A failure to report as one line {@code chatglm: <message>} with exit code 1 (not a usage error, not a bug). */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
