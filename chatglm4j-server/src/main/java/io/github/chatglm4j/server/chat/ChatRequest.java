package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.chat.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code /v1/chat/completions} request translated to ChatGLM3.
 *
 * @param model      the requested model id, or null
 * @param messages   the conversation as ChatGLM3 turns; with tools in play it starts with ChatGLM3's tools system
 *                   message (the client's own system messages follow it unchanged)
 * @param tools      the declared tools and the choice
 * @param generation sampling, budget, stop strings, streaming
 */
public record ChatRequest(String model, List<ChatMessage> messages, ToolSet tools, GenerationParams generation) {

    public ChatRequest {
        messages = List.copyOf(messages);
    }

    /**
     * Reads a request body. Unknown fields are ignored (clients send many platform-specific ones); values that
     * cannot be honoured are refused with {@link InvalidRequestException}.
     */
    public static ChatRequest parse(JsonNode body) {
        String model = Fields.string(body, "model", "model");
        List<ChatMessage> turns = MessageMapper.map(body.get("messages"));
        ToolSet tools = ToolSet.parse(body);
        checkResponseFormat(body);
        GenerationParams generation = GenerationParams.parse(body);
        List<ChatMessage> messages = new ArrayList<>();
        if (tools.active() && !tools.schemas().isEmpty()) {
            messages.add(ChatMessage.tools(tools.schemas()));
        }
        messages.addAll(turns);
        return new ChatRequest(model, messages, tools, generation);
    }

    /** The text pre-filled after {@code <|assistant|>} (the tool name line of a named tool choice), or "". */
    public String prefill() {
        return tools.forcedName() == null ? "" : tools.forcedName() + "\n";
    }

    private static void checkResponseFormat(JsonNode body) {
        JsonNode format = Fields.get(body, "response_format");
        if (format == null) {
            return;
        }
        if (!format.isObject()) {
            throw new InvalidRequestException("response_format", "response_format must be an object, got " + Fields.describe(format));
        }
        String type = Fields.string(format, "type", "response_format.type");
        if (type == null || type.equals("text") || type.equals("json_object")) {
            return; // json_object: best effort, the model is asked in the messages (as OpenAI requires anyway)
        }
        if (type.equals("json_schema")) {
            throw new InvalidRequestException("response_format",
                    "response_format json_schema is not supported: this server has no constrained decoding");
        }
        throw new InvalidRequestException("response_format.type", "unknown response_format type '" + type + "'");
    }
}
