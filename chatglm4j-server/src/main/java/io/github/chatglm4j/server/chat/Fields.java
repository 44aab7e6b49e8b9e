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

    /**
     * A number within [min, max] as the engine will use it: a float. The range is checked after the conversion,
     * since a double such as 1e-46 passes a check in doubles and then becomes 0 as a float.
     */
    public static Float floatNumber(JsonNode object, String name, float min, float max) {
        Double d = number(object, name, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        if (d == null) {
            return null;
        }
        float f = d.floatValue();
        if (!(f >= min && f <= max)) {
            throw new InvalidRequestException(name, name + " must be between " + plain(min) + " and " + plain(max) + ", got "
                    + object.get(name) + (Float.isFinite(f) && f != d ? " (" + f + " as a 32-bit float)" : ""));
        }
        return f;
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
