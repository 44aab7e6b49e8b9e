package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.tool.Tool;
import io.github.chatglm4j.agent.tool.ToolFiles;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.server.chat.Fields;
import io.github.chatglm4j.server.chat.InvalidRequestException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The body of {@code POST /api/conversations/{id}/turn}: the mode, the history the browser keeps (with each call's
 * metadata), the new message, the tools and the sampling settings. Mistakes are 400s naming the field.
 *
 * @param mode        chat, tool or interpreter
 * @param system      chat mode's system prompt, or null (tool and interpreter mode use the prompts ChatGLM3 was
 *                    trained with, built by the server)
 * @param history     the conversation so far, without the server-built system message
 * @param message     the user's message, or the observation the previous turn waits for
 * @param builtins    tool mode: the built-in tools by name, in the order given (empty with definitions)
 * @param definitions tool mode: tools declared as JSON or YAML text, without implementation (empty with built-ins)
 * @param manual      tool mode: calls are not run; the turn ends at the call and the user sends its result
 * @param sampling    how tokens are chosen
 * @param maxTokens   most tokens per model turn
 */
record TurnRequest(Mode mode, String system, List<ChatMessage> history, ChatMessage message, List<String> builtins,
                   List<Tool> definitions, boolean manual, SamplingParams sampling, int maxTokens) {

    /** The composite demo's defaults (sidebar: output length 256, temperature 0.95, top_p 0.8, repetition penalty 1.1). */
    static final int DEFAULT_MAX_TOKENS = 256;
    static final float DEFAULT_TEMPERATURE = 0.95f;
    static final float DEFAULT_TOP_P = 0.8f;
    static final float DEFAULT_REPETITION_PENALTY = 1.1f;
    /** The composite demo's chat-mode system prompt. */
    static final String DEFAULT_SYSTEM_PROMPT = "You are ChatGLM3, a large language model trained by Zhipu.AI. "
            + "Follow the user's instructions carefully. Respond using markdown.";

    enum Mode {
        CHAT, TOOL, INTERPRETER;

        String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    TurnRequest {
        history = List.copyOf(history);
        builtins = List.copyOf(builtins);
        definitions = List.copyOf(definitions);
    }

    /** The turn needs the conversation's Python worker. */
    boolean needsWorker() {
        return mode == Mode.INTERPRETER;
    }

    /** The turn runs model-written code: in the worker, or get_shell's one-off sandbox. */
    boolean needsSandbox() {
        return mode == Mode.INTERPRETER || mode == Mode.TOOL && builtins.contains("get_shell") && !manual;
    }

    /**
     * @param weather whether get_weather may be offered (the server was started with it enabled)
     * @throws InvalidRequestException naming the field at fault
     */
    static TurnRequest parse(ObjectNode body, boolean weather) {
        String modeName = Fields.string(body, "mode", "mode");
        Mode mode = switch (modeName == null ? "" : modeName) {
            case "chat" -> Mode.CHAT;
            case "tool" -> Mode.TOOL;
            case "interpreter" -> Mode.INTERPRETER;
            default -> throw new InvalidRequestException("mode", "mode must be \"chat\", \"tool\" or \"interpreter\""
                    + (modeName == null ? "" : ", got \"" + modeName + "\""));
        };
        String system = mode == Mode.CHAT ? Fields.string(body, "system", "system") : null;
        if (system != null && system.isEmpty()) {
            system = null;
        }
        List<ChatMessage> history = history(body);
        ChatMessage message = message(body);
        List<String> builtins = List.of();
        List<Tool> definitions = List.of();
        boolean manual = false;
        if (mode == Mode.TOOL) {
            manual = Boolean.TRUE.equals(Fields.bool(body, "manual", "manual"));
            JsonNode tools = Fields.get(body, "tools");
            if (tools == null || !tools.isObject() || tools.has("builtin") == tools.has("definitions")) {
                throw new InvalidRequestException("tools", "tool mode needs tools: {\"builtin\": [names]} or {\"definitions\": \"JSON or YAML text\"}");
            }
            if (tools.has("builtin")) {
                builtins = builtins(tools.get("builtin"), weather);
            } else {
                String text = Fields.string(tools, "definitions", "tools.definitions");
                try {
                    definitions = ToolFiles.parse(text == null ? "" : text, "tools.definitions");
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("tools.definitions", e.getMessage());
                }
                for (Tool t : definitions) {
                    checkName(t.name(), "tools.definitions");
                }
                if (!manual) {
                    throw new InvalidRequestException("manual", "tools given as definitions have no implementation on the server: "
                            + "send \"manual\": true and answer each call with an observation");
                }
            }
        }
        if (message.role() == Role.OBSERVATION && (history.isEmpty() || history.getLast().role() != Role.ASSISTANT
                || history.getLast().metadata().isEmpty())) {
            throw new InvalidRequestException("message.role", "an observation answers a call: the history must end with the "
                    + "assistant's call (a message with metadata)");
        }
        JsonNode sampling = Fields.get(body, "sampling");
        if (sampling != null && !sampling.isObject()) {
            throw new InvalidRequestException("sampling", "sampling must be an object");
        }
        return new TurnRequest(mode, system, history, message, builtins, definitions, manual, sampling(sampling),
                maxTokens(sampling));
    }

    private static List<ChatMessage> history(JsonNode body) {
        JsonNode list = Fields.get(body, "history");
        if (list == null) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new InvalidRequestException("history", "history must be an array of messages");
        }
        var out = new ArrayList<ChatMessage>();
        for (int i = 0; i < list.size(); i++) {
            String at = "history[" + i + "]";
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                throw new InvalidRequestException(at, at + " must be an object with role, content and metadata");
            }
            Role role = role(Fields.string(m, "role", at + ".role"), at + ".role");
            String content = Fields.string(m, "content", at + ".content");
            String metadata = Fields.string(m, "metadata", at + ".metadata");
            if (metadata != null && !metadata.isEmpty()) {
                if (role != Role.ASSISTANT) {
                    throw new InvalidRequestException(at + ".metadata", "only an assistant message carries metadata (a tool name or interpreter)");
                }
                checkName(metadata, at + ".metadata");
            }
            out.add(new ChatMessage(role, content, metadata, null));
        }
        return out;
    }

    private static ChatMessage message(JsonNode body) {
        JsonNode m = Fields.get(body, "message");
        if (m == null || !m.isObject()) {
            throw new InvalidRequestException("message", "message must be an object {\"role\": \"user\" | \"observation\", \"content\": \"...\"}");
        }
        String roleName = Fields.string(m, "role", "message.role");
        Role role = role(roleName == null ? "user" : roleName, "message.role");
        if (role != Role.USER && role != Role.OBSERVATION) {
            throw new InvalidRequestException("message.role", "message.role must be \"user\" or \"observation\", got \"" + roleName + "\"");
        }
        String content = Fields.string(m, "content", "message.content");
        if (content == null) {
            throw new InvalidRequestException("message.content", "message.content must be a string");
        }
        return new ChatMessage(role, content, "", null);
    }

    private static Role role(String name, String param) {
        if (name == null) {
            throw new InvalidRequestException(param, param + " must be system, user, assistant or observation");
        }
        try {
            return Role.fromWireName(name);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(param, param + ": " + e.getMessage());
        }
    }

    /** A tool name (or interpreter) is the header line of a call turn: one line, no surrounding whitespace. */
    private static void checkName(String name, String param) {
        if (name.isBlank() || !name.strip().equals(name) || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new InvalidRequestException(param, param + ": a tool name must be one line without leading or trailing "
                    + "whitespace, got \"" + name.replace("\n", "\\n") + "\"");
        }
    }

    private static List<String> builtins(JsonNode names, boolean weather) {
        if (!names.isArray() || names.isEmpty()) {
            throw new InvalidRequestException("tools.builtin", "tools.builtin must be a non-empty array of names: " + Builtins.NAMES);
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String param = "tools.builtin[" + i + "]";
            JsonNode n = names.get(i);
            if (!n.isTextual() || !Builtins.NAMES.contains(n.textValue())) {
                throw new InvalidRequestException(param, param + " must be one of " + Builtins.NAMES + ", got " + n);
            }
            if (n.textValue().equals("get_weather") && !weather) {
                throw new InvalidRequestException(param, "get_weather is off on this server (it sends the city to wttr.in; "
                        + "start the server with --weather to allow it)");
            }
            if (!out.add(n.textValue())) {
                throw new InvalidRequestException(param, n.textValue() + " is named twice");
            }
        }
        return List.copyOf(out);
    }

    private static SamplingParams sampling(JsonNode s) {
        SamplingParams p = SamplingParams.DEFAULTS.withSeed(ThreadLocalRandom.current().nextLong())
                .withTemperature(DEFAULT_TEMPERATURE).withTopP(DEFAULT_TOP_P).withRepetitionPenalty(DEFAULT_REPETITION_PENALTY);
        if (s == null) {
            return p;
        }
        Float temperature = Fields.floatNumber(s, "temperature", 0, 2);
        if (temperature != null) {
            p = p.withTemperature(temperature);
        }
        Float topP = Fields.floatNumber(s, "top_p", 0, 1);
        if (topP != null) {
            p = topP == 0 ? p.withTemperature(0f) : p.withTopP(topP); // top_p 0 keeps only the most likely token
        }
        Float repetition = Fields.floatNumber(s, "repetition_penalty", 0, 100);
        if (repetition != null) {
            if (repetition <= 0) {
                throw new InvalidRequestException("repetition_penalty", "repetition_penalty must be greater than 0");
            }
            p = p.withRepetitionPenalty(repetition);
        }
        Long seed = Fields.integer(s, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        if (seed != null) {
            p = p.withSeed(seed);
        }
        return p;
    }

    private static int maxTokens(JsonNode s) {
        Long max = s == null ? null : Fields.integer(s, "max_tokens", 1, Integer.MAX_VALUE);
        return max == null ? DEFAULT_MAX_TOKENS : max.intValue();
    }
}
