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
    /** The system prompt ChatGLM3 was trained with for tools; the tools follow it as indented JSON. */
    public static final String TOOLS_PROMPT =
            "Answer the following questions as best as you can. You have access to the following tools:";
    /**
     * The system prompt ChatGLM3 was trained with for the code interpreter (the reference composite demo's and
     * chatglm.cpp's code_interpreter.txt): a computer without internet, files under /mnt/data/.
     */
    public static final String INTERPRETER_PROMPT = "你是一位智能AI助手，你叫ChatGLM，你连接着一台电脑，但请注意不能联网。在使用Python解决任务时，"
            + "你可以运行代码并得到结果，如果运行结果有错误，你需要尽可能对代码进行改进。你可以处理用户上传到电脑上的文件，文件默认存储路径是/mnt/data/。";
    /** The metadata of an assistant turn that holds code for the interpreter. */
    public static final String INTERPRETER = "interpreter";

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

    /** The system message with which the reference announces tools: {@link #TOOLS_PROMPT}, then the tools. */
    public static ChatMessage tools(JsonNode tools) {
        return system(TOOLS_PROMPT, tools);
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
