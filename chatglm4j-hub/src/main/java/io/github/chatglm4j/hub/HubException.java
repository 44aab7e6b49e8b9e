package io.github.chatglm4j.hub;

import java.io.Serial;

/**
 * A download or cache problem, with a one-line message that says what to do. {@link #kind()} tells callers (and
 * tests) which problem it is without parsing the message.
 */
public final class HubException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** No such repository (or private, and no token was sent). */
        REPO_NOT_FOUND,
        /** The repository needs a token (401) or the token has no access (403, gated). */
        UNAUTHORIZED,
        /** The branch, tag or commit does not exist. */
        REVISION_NOT_FOUND,
        /** The repository has no such file, or none the engine can load. */
        FILE_NOT_FOUND,
        /** The hub could not be reached, or kept failing after retries. */
        NETWORK,
        /** Offline mode and the model is not in the cache. */
        OFFLINE,
        /** Not enough free space, or the disk filled up while writing. */
        DISK_FULL,
        /** A downloaded file did not match its size or checksum. */
        CHECKSUM,
        /** The server answered something this client does not understand. */
        PROTOCOL,
        /** Reading or writing the cache failed. */
        IO
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
