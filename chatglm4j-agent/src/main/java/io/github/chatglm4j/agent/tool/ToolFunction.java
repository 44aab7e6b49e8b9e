package io.github.chatglm4j.agent.tool;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a tool for {@link ToolRegistry#addMethods(Object)}; each parameter needs {@link Param}.
 *
 * <pre>{@code
 * class Shop {
 *     @ToolFunction(description = "The price of a product in yuan")
 *     double price(@Param(name = "product", description = "The product's name") String product) { ... }
 * }
 * new ToolRegistry().addMethods(new Shop());
 * }</pre>
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ToolFunction {
    /** The tool's name; the method's name when empty. */
    String name() default "";

    String description();
}
