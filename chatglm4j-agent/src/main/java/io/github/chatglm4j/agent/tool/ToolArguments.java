package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The keyword arguments of one call, as parsed from the model's {@code tool_call(...)}, with typed getters that fail
 * the way Python would fail a call with a wrong type.
 */
public final class ToolArguments {
    private final String tool;
    private final ObjectNode values;

    ToolArguments(String tool, ObjectNode values) {
        this.tool = tool;
        this.values = values.deepCopy();
    }

    /** The arguments as JSON (a copy). */
    public ObjectNode json() {
        return values.deepCopy();
    }

    public boolean has(String name) {
        return values.has(name) && !values.get(name).isNull();
    }

    /** The raw value, or null if absent. */
    public JsonNode node(String name) {
        return values.get(name);
    }

    public String string(String name) throws ToolException {
        JsonNode v = present(name);
        if (!v.isTextual()) {
            throw wrongType(name, "str", v);
        }
        return v.textValue();
    }

    public BigInteger integer(String name) throws ToolException {
        JsonNode v = present(name);
        if (!v.isIntegralNumber()) {
            throw wrongType(name, "int", v);
        }
        return v.bigIntegerValue();
    }

    public double number(String name) throws ToolException {
        JsonNode v = present(name);
        if (!v.isNumber()) {
            throw wrongType(name, "float", v);
        }
        return v.doubleValue();
    }

    public boolean bool(String name) throws ToolException {
        JsonNode v = present(name);
        if (!v.isBoolean()) {
            throw wrongType(name, "bool", v);
        }
        return v.booleanValue();
    }

    /** A list or tuple's items. */
    public List<JsonNode> list(String name) throws ToolException {
        JsonNode v = present(name);
        if (!v.isArray()) {
            throw wrongType(name, "list", v);
        }
        var items = new ArrayList<JsonNode>();
        v.forEach(items::add);
        return items;
    }

    private JsonNode present(String name) throws ToolException {
        JsonNode v = values.get(name);
        if (v == null) {
            throw ToolException.typeError(tool + "() missing 1 required positional argument: '" + name + "'");
        }
        return v;
    }

    private ToolException wrongType(String name, String expected, JsonNode actual) {
        return ToolException.typeError(tool + "() argument '" + name + "' must be " + expected + ", not " + pythonType(actual));
    }

    /** The Python type name of a parsed literal. */
    static String pythonType(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "str";
            case NUMBER -> v.isIntegralNumber() ? "int" : "float";
            case BOOLEAN -> "bool";
            case NULL, MISSING -> "NoneType";
            case ARRAY -> "list";
            case OBJECT -> "dict";
            default -> "object";
        };
    }
}
