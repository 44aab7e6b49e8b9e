package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed reads of optional request fields. JSON {@code null} counts as absent (clients send explicit nulls for
 * unset options); a value of the wrong type is a 400 naming the parameter.
 */
public final class Fields {
    private Fields() {
    }

    /** The field's value, or null when it is missing or JSON null. */
    public static JsonNode get(JsonNode object, String name) {
        JsonNode v = object.get(name);
        return v == null || v.isNull() ? null : v;
    }

    public static String string(JsonNode object, String name, String param) {
        JsonNode v = get(object, name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw new InvalidRequestException(param, param + " must be a string, got " + describe(v));
        }
        return v.textValue();
    }

    public static Boolean bool(JsonNode object, String name, String param) {
        JsonNode v = get(object, name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw new InvalidRequestException(param, param + " must be a boolean, got " + describe(v));
        }
        return v.booleanValue();
    }

    /** A finite number within [min, max]. */
    public static Double number(JsonNode object, String name, double min, double max) {
        JsonNode v = get(object, name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw new InvalidRequestException(name, name + " must be a number, got " + describe(v));
        }
        double d = v.doubleValue();
        if (d < min || d > max) {
            throw new InvalidRequestException(name, name + " must be between " + plain(min) + " and " + plain(max) + ", got " + v);
        }
        return d;
    }

    /** An integer within [min, max] (a float with an integral value, such as 5.0, is accepted). */
    public static Long integer(JsonNode object, String name, long min, long max) {
        JsonNode v = get(object, name);
        if (v == null) {
            return null;
        }
        boolean integral = v.isIntegralNumber() && v.canConvertToLong()
                || v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue()) && Math.abs(v.doubleValue()) < 9e15;
        if (!integral) {
            throw new InvalidRequestException(name, name + " must be an integer, got " + describe(v));
        }
        long n = v.asLong();
        if (n < min || n > max) {
            throw new InvalidRequestException(name, name + " must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    /** "a string", "an array", ... with the value when short, for error messages. */
    static String describe(JsonNode v) {
        String kind = switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> "null";
        };
        String text = v.toString();
        return text.length() <= 40 && !v.isContainerNode() ? kind + " (" + text + ")" : kind;
    }

    private static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
