package io.github.chatglm4j.agent.tool;

import java.io.Serial;

/**
 * A tool's own failure, told to the model as {@code "<kind>: <message>"} in the style of the Python exception the
 * reference tools raise (e.g. {@code "TypeError: Seed must be an integer"}).
 */
public final class ToolException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String kind;

    public ToolException(String kind, String message) {
        super(message);
        this.kind = kind;
    }

    public static ToolException typeError(String message) {
        return new ToolException("TypeError", message);
    }

    public static ToolException valueError(String message) {
        return new ToolException("ValueError", message);
    }

    /** The Python-style name of the failure, e.g. TypeError. */
    public String kind() {
        return kind;
    }

    /** What the model reads. */
    public String observation() {
        return kind + ": " + getMessage();
    }
}
