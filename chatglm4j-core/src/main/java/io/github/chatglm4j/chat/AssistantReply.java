package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** What an assistant turn amounts to, read from the last segment of the decoded reply. */
public sealed interface AssistantReply {

    /** A plain answer (stripped, {@code [[训练时间]]} replaced by {@code 2023年} as the reference does). */
    record Text(String content) implements AssistantReply {
    }

    /**
     * A tool call.
     *
     * @param name      the tool name (the metadata line, stripped)
     * @param arguments the keyword arguments of {@code tool_call(...)}, in source order
     * @param code      the Python source they were parsed from (the fenced block's body)
     */
    record ToolCall(String name, ObjectNode arguments, String code) implements AssistantReply {
    }

    /** Code for the code interpreter (metadata {@code interpreter}), fences and language tag removed. */
    record CodeInterpreter(String code) implements AssistantReply {
    }

    /**
     * A turn that names a tool but whose call could not be read.
     *
     * @param name       the tool name (stripped)
     * @param rawContent the text after the tool name line, as generated
     * @param error      what is wrong, with line and column in the extracted code
     */
    record MalformedToolCall(String name, String rawContent, String error) implements AssistantReply {
    }
}
