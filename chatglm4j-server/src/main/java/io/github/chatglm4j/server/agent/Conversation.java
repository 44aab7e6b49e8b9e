package io.github.chatglm4j.server.agent;

import java.nio.file.Path;

/**
 * The server side of one conversation of the web UI (the history lives in the browser): its folder, which the code
 * sees as {@code /mnt/data}.
 */
final class Conversation {
    final String id;
    final Path folder;

    Conversation(String id, Path folder) {
        this.id = id;
        this.folder = folder;
    }
}
