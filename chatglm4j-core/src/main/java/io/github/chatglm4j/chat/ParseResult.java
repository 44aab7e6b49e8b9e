package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The outcome of parsing Python source: a value, or an error with the place it was found. Parse errors are
 * ordinary results here because model output is untrusted text, and a malformed call is an expected event.
 *
 * @param <T> the kind of JSON value a successful parse yields
 */
public sealed interface ParseResult<T extends JsonNode> {

    /** The parsed value. */
    record Ok<T extends JsonNode>(T value) implements ParseResult<T> {
    }

    /**
     * A syntax or content error.
     *
     * @param message one line saying what is wrong (no position in it)
     * @param offset  the index (UTF-16 char) in the parsed source where the problem starts
     */
    record Error<T extends JsonNode>(String message, int offset) implements ParseResult<T> {

        /** The message with a 1-based line and column, e.g. {@code "unterminated string literal (line 2, column 5)"}. */
        public String describe(String source) {
            int line = 1;
            int lineStart = 0;
            int end = Math.min(Math.max(offset, 0), source.length());
            for (int i = 0; i < end; i++) {
                char c = source.charAt(i);
                if (c == '\n' || (c == '\r' && (i + 1 >= source.length() || source.charAt(i + 1) != '\n'))) {
                    line++;
                    lineStart = i + 1;
                }
            }
            return message + " (line " + line + ", column " + (end - lineStart + 1) + ")";
        }
    }
}
