package io.github.chatglm4j.generate;

/** Why generation ended. */
public enum FinishReason {
    /** A stop id (end of text, or the next turn's role token) or a stop string ended the output. */
    STOP,
    /** The new-token limit or the context size was reached. */
    LENGTH,
    /** The reply is a tool call or code to run; the model stopped to wait for an observation. */
    TOOL_CALL,
    /** The caller cancelled (e.g. a client disconnected). */
    CANCELLED
}
