package io.github.chatglm4j.format;

/**
 * Receives progress while a model loads. {@code done} and {@code total} are in bytes; {@code stage} says what is
 * happening ("mapping", "reading"). Implementations render it (the CLI draws a bar); the engine never prints.
 */
@FunctionalInterface
public interface LoadProgress {
    LoadProgress NONE = (stage, done, total) -> { };

    void update(String stage, long done, long total);
}
