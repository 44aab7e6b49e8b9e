package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * A tool the model may call: its name, its description for the system prompt, its parameters, and what it does.
 *
 * <pre>{@code
 * Tool clock = Tool.of("get_time", "The current time in a time zone",
 *         List.of(ToolParameter.required("zone", "str", "An IANA time zone, e.g. Asia/Shanghai")),
 *         args -> ZonedDateTime.now(ZoneId.of(args.string("zone"))).toString());
 * }</pre>
 *
 * @param name        the name the model calls it by
 * @param description what it does
 * @param parameters  its keyword parameters (used to check calls)
 * @param definition  how it is described in the system prompt: the reference registry's
 *                    {@code {"name", "description", "params": [...]}}, or, for a tool read from an OpenAI-style file,
 *                    that file's {@code {"name", "description", "parameters": {JSON schema}}}
 * @param handler     what a call does, or null for a tool that is only declared
 */
public record Tool(String name, String description, List<ToolParameter> parameters, ObjectNode definition,
                   ToolHandler handler) {

    public Tool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        parameters = List.copyOf(parameters);
        Objects.requireNonNull(definition, "definition");
        definition = definition.deepCopy();
        if (name.isBlank()) {
            throw new IllegalArgumentException("a tool needs a name");
        }
        var seen = new HashSet<String>();
        for (ToolParameter p : parameters) {
            if (!seen.add(p.name())) {
                throw new IllegalArgumentException("tool " + name + " declares parameter '" + p.name() + "' twice");
            }
        }
    }

    /** A tool described the way the reference composite demo's registry describes its Python functions. */
    public static Tool of(String name, String description, List<ToolParameter> parameters, ToolHandler handler) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("name", name);
        d.put("description", description);
        var params = d.putArray("params");
        for (ToolParameter p : parameters) {
            params.addObject().put("name", p.name()).put("description", p.description()).put("type", p.type())
                    .put("required", p.required());
        }
        return new Tool(name, description, parameters, d, Objects.requireNonNull(handler, "handler"));
    }

    @Override
    public ObjectNode definition() {
        return definition.deepCopy();
    }

    /** The same tool doing something else (e.g. a declared tool given an implementation). */
    public Tool withHandler(ToolHandler h) {
        return new Tool(name, description, parameters, definition, h);
    }

    /** Described as in an OpenAI-style file (JSON-schema {@code parameters}) rather than the reference registry. */
    public boolean openAiStyle() {
        return !definition.has("params");
    }
}
