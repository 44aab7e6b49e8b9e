package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;

/**
 * One turn of a ChatGLM3 conversation, as the reference keeps it in its history list.
 *
 * @param role     who speaks
 * @param content  the text of the turn (for an assistant tool call: the fenced code block)
 * @param metadata the text after the role token on the header line: a tool name or {@code interpreter} for
 *                 assistant turns, empty otherwise
 * @param tools    for a system turn only: the tool definitions appended to the content as JSON, or null
 */
public record ChatMessage(Role role, String content, String metadata, JsonNode tools) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        content = content == null ? "" : content;
        metadata = metadata == null ? "" : metadata;
        if (tools != null && role != Role.SYSTEM) {
            throw new IllegalArgumentException("only a system message can carry tools, not " + role.wireName());
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content, "", null);
    }

    /** A system message announcing tools; the reference appends them to the content as indented JSON. */
    public static ChatMessage system(String content, JsonNode tools) {
        return new ChatMessage(Role.SYSTEM, content, "", tools);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content, "", null);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content, "", null);
    }

    /** An assistant turn with metadata: a tool call (metadata = tool name) or code (metadata = interpreter). */
    public static ChatMessage assistant(String metadata, String content) {
        return new ChatMessage(Role.ASSISTANT, content, metadata, null);
    }

    public static ChatMessage observation(String content) {
        return new ChatMessage(Role.OBSERVATION, content, "", null);
    }
}
