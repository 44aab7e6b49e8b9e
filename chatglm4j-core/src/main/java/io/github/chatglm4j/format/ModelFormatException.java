package io.github.chatglm4j.format;

import java.nio.file.Path;

/**
 * A model file that cannot be used: missing, truncated, malformed or describing something the engine cannot run.
 * The message is one line naming the file and the problem, fit to show a user as is.
 */
public final class ModelFormatException extends RuntimeException {
    private final transient Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
