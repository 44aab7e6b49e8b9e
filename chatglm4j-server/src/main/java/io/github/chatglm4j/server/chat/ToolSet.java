package io.github.chatglm4j.server.chat;

import io.github.chatglm4j.chat.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The tools a request declares ({@code tools}, or the legacy {@code functions}) and how they may be used
 * ({@code tool_choice} / {@code function_call}).
 *
 * @param schemas     the declared functions flattened to ChatGLM3's {@code {name, description, parameters}} list,
 *                    without {@code interpreter} (the model's built-in code interpreter needs no schema)
 * @param names       every declared name, {@code interpreter} included
 * @param active      tools are in play: declared and not switched off with {@code none}
 * @param forcedName  a named choice: the assistant turn is pre-filled with this tool name, or null
 * @param legacy      declared with {@code functions}: the reply uses {@code function_call}
 */
public record ToolSet(ArrayNode schemas, Set<String> names, boolean active, String forcedName, boolean legacy) {

    /** ChatGLM3's code interpreter: a tool call whose metadata line is {@code interpreter}. */
    public static final String INTERPRETER = ChatMessage.INTERPRETER;

    public ToolSet {
        names = Set.copyOf(names);
    }

    public boolean interpreterDeclared() {
        return names.contains(INTERPRETER);
    }

    /** Reads {@code tools}/{@code tool_choice}, or {@code functions}/{@code function_call} when there are no tools. */
    static ToolSet parse(JsonNode body) {
        JsonNode tools = Fields.get(body, "tools");
        JsonNode functions = Fields.get(body, "functions");
        boolean legacy = tools == null && functions != null;
        String listParam = legacy ? "functions" : "tools";
        JsonNode list = legacy ? functions : tools;
        ArrayNode schemas = JsonNodeFactory.instance.arrayNode();
        Set<String> names = new LinkedHashSet<>();
        if (list != null) {
            if (!list.isArray()) {
                throw new InvalidRequestException(listParam, listParam + " must be an array, got " + Fields.describe(list));
            }
            for (int i = 0; i < list.size(); i++) {
                String param = listParam + "[" + i + "]";
                JsonNode fn = legacy ? list.get(i) : function(list.get(i), param);
                if (!legacy) {
                    param += ".function";
                }
                ObjectNode flat = flatten(fn, param);
                String name = flat.get("name").textValue();
                if (!names.add(name)) {
                    throw new InvalidRequestException(param + ".name", "the tool name '" + name + "' is declared twice");
                }
                if (!name.equals(INTERPRETER)) {
                    schemas.add(flat);
                }
            }
        }
        String choiceParam = legacy ? "function_call" : "tool_choice";
        JsonNode choice = Fields.get(body, choiceParam);
        boolean active = !names.isEmpty();
        String forced = null;
        if (choice != null) {
            if (choice.isTextual()) {
                switch (choice.textValue()) {
                    case "none" -> active = false;
                    case "auto" -> { }
                    case "required" -> throw new InvalidRequestException(choiceParam,
                            choiceParam + " \"required\" is not supported; name the tool ({\"type\": \"function\", "
                                    + "\"function\": {\"name\": ...}}) or use \"auto\"");
                    default -> throw new InvalidRequestException(choiceParam,
                            choiceParam + " must be \"none\", \"auto\" or name a function, got \"" + choice.textValue() + "\"");
                }
            } else if (choice.isObject()) {
                forced = legacy ? Fields.string(choice, "name", "function_call.name") : namedChoice(choice);
                if (forced == null) {
                    throw new InvalidRequestException(choiceParam, choiceParam + " must name a function");
                }
                if (!names.contains(forced)) {
                    throw new InvalidRequestException(choiceParam, choiceParam + " names '" + forced
                            + "', which is not among the declared " + listParam);
                }
            } else {
                throw new InvalidRequestException(choiceParam, choiceParam + " must be a string or an object, got " + Fields.describe(choice));
            }
        }
        return new ToolSet(schemas, names, active, active ? forced : null, legacy);
    }

    private static String namedChoice(JsonNode choice) {
        String type = Fields.string(choice, "type", "tool_choice.type");
        if (type != null && !type.equals("function")) {
            throw new InvalidRequestException("tool_choice.type", "tool_choice type '" + type + "' is not supported (only \"function\")");
        }
        JsonNode fn = Fields.get(choice, "function");
        if (fn == null || !fn.isObject()) {
            throw new InvalidRequestException("tool_choice.function", "tool_choice.function must be an object with a name");
        }
        return Fields.string(fn, "name", "tool_choice.function.name");
    }

    private static JsonNode function(JsonNode tool, String param) {
        if (!tool.isObject()) {
            throw new InvalidRequestException(param, param + " must be an object, got " + Fields.describe(tool));
        }
        String type = Fields.string(tool, "type", param + ".type");
        if (type != null && !type.equals("function")) {
            throw new InvalidRequestException(param + ".type", "tool type '" + type + "' is not supported (only \"function\")");
        }
        JsonNode fn = Fields.get(tool, "function");
        if (fn == null) {
            throw new InvalidRequestException(param + ".function", param + ".function is required");
        }
        return fn;
    }

    /** The flat shape ChatGLM3's documentation shows: name, description, parameters (in that order). */
    private static ObjectNode flatten(JsonNode fn, String param) {
        if (!fn.isObject()) {
            throw new InvalidRequestException(param, param + " must be an object, got " + Fields.describe(fn));
        }
        String name = Fields.string(fn, "name", param + ".name");
        if (name == null || name.isBlank()) {
            throw new InvalidRequestException(param + ".name", param + ".name is required");
        }
        if (name.chars().anyMatch(Character::isWhitespace)) {
            // the name is the metadata line after <|assistant|>; whitespace would change where it ends
            throw new InvalidRequestException(param + ".name", "tool names cannot contain whitespace: '" + name + "'");
        }
        ObjectNode flat = JsonNodeFactory.instance.objectNode();
        flat.put("name", name);
        String description = Fields.string(fn, "description", param + ".description");
        if (description != null) {
            flat.put("description", description);
        }
        JsonNode parameters = Fields.get(fn, "parameters");
        if (parameters != null) {
            if (!parameters.isObject()) {
                throw new InvalidRequestException(param + ".parameters", param + ".parameters must be an object (a JSON schema)");
            }
            flat.set("parameters", parameters);
        }
        return flat;
    }
}
