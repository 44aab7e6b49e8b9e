package io.github.chatglm4j.agent.tool;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A parameter of a {@link ToolFunction} method. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface Param {
    /** The keyword the model passes it by (Java does not keep parameter names by default). */
    String name();

    String description();

    /** Optional parameters must have a reference type; they are null when the model leaves them out. */
    boolean required() default true;

    /** The Python type name shown to the model; derived from the Java type when empty (int, float, str, bool, list[...]). */
    String type() default "";
}
