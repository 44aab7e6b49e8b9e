package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;

/**
 * Python's {@code repr} of JSON values (dict, list, str, int, float, bool, None), which is what the reference's
 * tools return: {@code str()} of a dict is its repr. Strings follow CPython's quoting (single quotes unless the text
 * has a single quote and no double quote) and escape only what is not printable; floats use the shortest digits that
 * round-trip, in exponent form below 1e-4 and from 1e16.
 */
final class PythonRepr {
    private PythonRepr() {
    }

    static String of(JsonNode node) {
        var out = new StringBuilder();
        write(node, out);
        return out.toString();
    }

    private static void write(JsonNode node, StringBuilder out) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                out.append('{');
                boolean first = true;
                for (var e : node.properties()) {
                    out.append(first ? "" : ", ");
                    first = false;
                    string(e.getKey(), out);
                    out.append(": ");
                    write(e.getValue(), out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < node.size(); i++) {
                    out.append(i == 0 ? "" : ", ");
                    write(node.get(i), out);
                }
                out.append(']');
            }
            case STRING -> string(node.textValue(), out);
            case BOOLEAN -> out.append(node.booleanValue() ? "True" : "False");
            case NULL, MISSING -> out.append("None");
            case NUMBER -> out.append(node.isIntegralNumber() ? node.bigIntegerValue().toString() : floatRepr(node.doubleValue()));
            default -> string(node.asText(), out);
        }
    }

    static String string(String s) {
        var out = new StringBuilder();
        string(s, out);
        return out.toString();
    }

    private static void string(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        s.codePoints().forEach(cp -> {
            if (cp == quote || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp < 0x20 || cp == 0x7f) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7f || printable(cp)) {
                out.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.append(String.format("\\U%08x", cp));
            }
        });
        out.append(quote);
    }

    /** Python's {@code str.isprintable()} for one character: not a control, format, separator, private or unassigned one. */
    private static boolean printable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> cp == ' ';
            default -> true;
        };
    }

    /** {@code repr(float)}. Java's Double.toString already gives the shortest round-trip digits; only the layout differs. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal v = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = v.unscaledValue().toString();
        int pointAt = digits.length() - v.scale(); // the value is 0.DIGITS x 10^pointAt
        String sign = d < 0 ? "-" : "";
        if (pointAt > 16 || pointAt < -3) {
            int exponent = pointAt - 1;
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        if (pointAt <= 0) {
            return sign + "0." + "0".repeat(-pointAt) + digits;
        }
        if (pointAt >= digits.length()) {
            return sign + digits + "0".repeat(pointAt - digits.length()) + ".0";
        }
        return sign + digits.substring(0, pointAt) + "." + digits.substring(pointAt);
    }
}
