package io.github.chatglm4j.agent.tool;

import java.util.Objects;

/**
 * One parameter of a tool, as the reference registry describes it to the model.
 *
 * @param name        the keyword the model passes it by
 * @param description what it means
 * @param type        its Python type name as the reference writes it: {@code int}, {@code str}, {@code float},
 *                    {@code bool}, {@code tuple[int, int]}, {@code list[str]} ...
 * @param required    whether a call must pass it
 */
public record ToolParameter(String name, String description, String type, boolean required) {
    public ToolParameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(type, "type");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a parameter needs a name");
        }
    }

    public static ToolParameter required(String name, String type, String description) {
        return new ToolParameter(name, description, type, true);
    }

    public static ToolParameter optional(String name, String type, String description) {
        return new ToolParameter(name, description, type, false);
    }
}
