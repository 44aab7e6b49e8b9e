package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.Role;

import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI messages to ChatGLM3 turns. Roles: system and developer are {@code <|system|>}, tool and function results
 * are {@code <|observation|>}. Content is a string or an array of text parts (joined with newlines); other parts
 * (images, audio, files) are refused because the model reads text only. An assistant turn's tool calls become
 * ChatGLM3 tool-call turns (metadata = the tool name, content = the fenced {@code tool_call(...)}), a call of
 * {@code interpreter} a code-interpreter turn, exactly as the model writes them, so a conversation re-encodes to
 * the tokens the model generated and the server's prefix cache can reuse them.
 */
final class MessageMapper {
    private MessageMapper() {
    }

    static List<ChatMessage> map(JsonNode messages) {
        if (messages == null) {
            throw new InvalidRequestException("messages", "messages is required");
        }
        if (!messages.isArray()) {
            throw new InvalidRequestException("messages", "messages must be an array, got " + Fields.describe(messages));
        }
        if (messages.isEmpty()) {
            throw new InvalidRequestException("messages", "messages must hold at least one message");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String param = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) {
                throw new InvalidRequestException(param, param + " must be an object, got " + Fields.describe(m));
            }
            String role = Fields.string(m, "role", param + ".role");
            if (role == null) {
                throw new InvalidRequestException(param + ".role", param + ".role is required");
            }
            String content = content(m, param + ".content");
            switch (role) {
                case "system", "developer" -> out.add(ChatMessage.system(content));
                case "user" -> out.add(ChatMessage.user(content));
                case "tool", "function" -> out.add(ChatMessage.observation(content));
                case "assistant" -> assistant(m, content, param, out);
                default -> throw new InvalidRequestException(param + ".role", "unknown role '" + role
                        + "' (expected system, developer, user, assistant, tool or function)");
            }
        }
        return out;
    }

    private static void assistant(JsonNode m, String content, String param, List<ChatMessage> out) {
        List<ChatMessage> calls = new ArrayList<>();
        JsonNode toolCalls = Fields.get(m, "tool_calls");
        if (toolCalls != null) {
            if (!toolCalls.isArray()) {
                throw new InvalidRequestException(param + ".tool_calls", param + ".tool_calls must be an array");
            }
            for (int k = 0; k < toolCalls.size(); k++) {
                String p = param + ".tool_calls[" + k + "]";
                JsonNode call = toolCalls.get(k);
                if (!call.isObject() || Fields.get(call, "function") == null) {
                    throw new InvalidRequestException(p, p + " must be an object with a function");
                }
                calls.add(callTurn(call.get("function"), p + ".function"));
            }
        }
        JsonNode functionCall = Fields.get(m, "function_call");
        if (functionCall != null) {
            calls.add(callTurn(functionCall, param + ".function_call"));
        }
        // LangChain4j and others omit or null the content of a tool-call turn: then only the calls are rendered
        if (!content.isEmpty() || calls.isEmpty()) {
            out.add(ChatMessage.assistant(content));
        }
        out.addAll(calls);
    }

    private static ChatMessage callTurn(JsonNode fn, String param) {
        if (!fn.isObject()) {
            throw new InvalidRequestException(param, param + " must be an object");
        }
        String name = Fields.string(fn, "name", param + ".name");
        if (name == null || name.isBlank()) {
            throw new InvalidRequestException(param + ".name", param + ".name is required");
        }
        JsonNode arguments = arguments(fn, param + ".arguments");
        if (name.equals(ToolSet.INTERPRETER)) {
            JsonNode code = arguments.get("code");
            if (code == null || !code.isTextual()) {
                throw new InvalidRequestException(param + ".arguments",
                        "a call of interpreter needs its code as a string: {\"code\": \"...\"}");
            }
            return ChatMessage.assistant(ToolSet.INTERPRETER, PythonCall.fencedCode(code.textValue()));
        }
        return ChatMessage.assistant(name, PythonCall.fencedToolCall(arguments));
    }

    /** The arguments object: a JSON string as OpenAI sends it (some clients send the object itself). */
    private static JsonNode arguments(JsonNode fn, String param) {
        JsonNode a = Fields.get(fn, "arguments");
        if (a == null) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (a.isObject()) {
            return a;
        }
        if (!a.isTextual()) {
            throw new InvalidRequestException(param, param + " must be a JSON string, got " + Fields.describe(a));
        }
        if (a.textValue().isBlank()) {
            return JsonNodeFactory.instance.objectNode();
        }
        JsonNode parsed = RequestJson.parse(a.textValue(), param, param);
        if (parsed == null || !parsed.isObject()) {
            throw new InvalidRequestException(param, param + " must encode a JSON object");
        }
        return (ObjectNode) parsed;
    }

    /** A string, null/absent (empty), or an array of text parts. */
    private static String content(JsonNode m, String param) {
        JsonNode c = Fields.get(m, "content");
        if (c == null) {
            return "";
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw new InvalidRequestException(param, param + " must be a string or an array of content parts, got " + Fields.describe(c));
        }
        List<String> texts = new ArrayList<>();
        for (int j = 0; j < c.size(); j++) {
            JsonNode part = c.get(j);
            if (part.isTextual()) {
                texts.add(part.textValue());
                continue;
            }
            String type = part.isObject() ? Fields.string(part, "type", param + "[" + j + "].type") : null;
            if ("text".equals(type) || "refusal".equals(type)) {
                String text = Fields.string(part, type, param + "[" + j + "]." + type);
                texts.add(text == null ? "" : text);
            } else {
                throw new InvalidRequestException(param, param + "[" + j + "] is "
                        + (type == null ? "not a content part" : "a '" + type + "' part")
                        + "; this model reads text only (parts of type \"text\")");
            }
        }
        return String.join("\n", texts);
    }
}
