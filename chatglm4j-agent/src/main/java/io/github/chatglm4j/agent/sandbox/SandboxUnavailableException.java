package io.github.chatglm4j.agent.sandbox;

import java.io.Serial;

/**
 * The sandbox cannot run here, or could not start: the message is one line saying why and how to fix it. Code is
 * never run unsandboxed instead.
 */
public final class SandboxUnavailableException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    public SandboxUnavailableException(String message) {
        super(message);
    }

    public SandboxUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
