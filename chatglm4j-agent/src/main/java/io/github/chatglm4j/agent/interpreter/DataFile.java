package io.github.chatglm4j.agent.interpreter;

/**
 * A regular file under {@code /mnt/data}.
 *
 * @param name  path relative to {@code /mnt/data}, with {@code /} between folders
 * @param size  bytes
 */
public record DataFile(String name, long size) {

    /** The path the code sees. */
    public String sandboxPath() {
        return "/mnt/data/" + name;
    }
}
