package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text exactly as Python writes it with {@code json.dumps(obj, indent=4, ensure_ascii=False)}, which is how
 * the reference renders tools into the system prompt: every byte counts, since the prompt is tokenized.
 * That means: items on their own lines indented by four spaces per level, {@code ","} at line ends and
 * {@code ": "} after keys, {@code []} and {@code {}} for empty containers, keys in their given order, non-ASCII
 * text kept, only the quote, the backslash and control characters escaped (the short escapes where JSON has
 * them, else a backslash, {@code u00} and two lower-case hex digits), integers of any size as digits, and floats as Python's {@code repr} ({@code 1.0}, {@code 1e-05},
 * {@code 1e+16}, {@code NaN}, {@code Infinity}).
 */
public final class PythonJson {
    private static final String INDENT = "    ";

    private PythonJson() {
    }

    /**
     * Renders a JSON tree. Float values are taken as Python would have parsed the JSON text: doubles, with
     * {@code float} nodes and big decimals converted to the nearest double.
     *
     * @throws IllegalArgumentException for nodes that have no JSON value (missing or POJO nodes)
     */
    public static String dumps(JsonNode node) {
        var out = new StringBuilder();
        write(node, 0, out);
        return out.toString();
    }

    private static void write(JsonNode node, int level, StringBuilder out) {
        JsonNodeType type = node.getNodeType();
        switch (type) {
            case OBJECT -> writeObject(node, level, out);
            case ARRAY -> writeArray(node, level, out);
            case STRING -> writeString(node.textValue(), out);
            case BINARY -> writeString(node.asText(), out); // Jackson writes binary as base64 text
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            case NUMBER -> writeNumber(node, out);
            case MISSING, POJO -> throw new IllegalArgumentException("cannot render a " + type + " node as JSON");
        }
    }

    private static void writeObject(JsonNode node, int level, StringBuilder out) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
        if (!fields.hasNext()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        while (fields.hasNext()) {
            var e = fields.next();
            out.append(first ? "" : ",");
            newline(level + 1, out);
            writeString(e.getKey(), out);
            out.append(": ");
            write(e.getValue(), level + 1, out);
            first = false;
        }
        newline(level, out);
        out.append('}');
    }

    private static void writeArray(JsonNode node, int level, StringBuilder out) {
        if (node.isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
            out.append(i == 0 ? "" : ",");
            newline(level + 1, out);
            write(node.get(i), level + 1, out);
        }
        newline(level, out);
        out.append(']');
    }

    private static void newline(int level, StringBuilder out) {
        out.append('\n');
        out.append(INDENT.repeat(level));
    }

    private static void writeString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static void writeNumber(JsonNode node, StringBuilder out) {
        if (node.isIntegralNumber()) {
            out.append(node.bigIntegerValue());
        } else if (node.isFloat()) {
            // Python has no 32-bit floats: take the shortest decimal of the float, as its JSON text would read.
            out.append(floatRepr(Double.parseDouble(Float.toString(node.floatValue()))));
        } else if (node.isBigDecimal()) {
            out.append(floatRepr(node.decimalValue().doubleValue()));
        } else {
            out.append(floatRepr(node.doubleValue()));
        }
    }

    /** Python's {@code repr(float)}: the shortest digits that read back as the same double. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return Double.doubleToRawLongBits(d) < 0 ? "-0.0" : "0.0";
        }
        ShortestDecimal s = ShortestDecimal.of(Math.abs(d));
        String digits = s.digits();
        int point = s.point();
        var out = new StringBuilder(d < 0 ? "-" : "");
        // Python's float_repr_style 'short' switches to exponent form outside 1e-4 <= |d| < 1e16.
        if (point > -4 && point <= 16) {
            if (point <= 0) {
                out.append("0.").append("0".repeat(-point)).append(digits);
            } else if (point >= digits.length()) {
                out.append(digits).append("0".repeat(point - digits.length())).append(".0");
            } else {
                out.append(digits, 0, point).append('.').append(digits, point, digits.length());
            }
        } else {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            int exp = point - 1;
            out.append('e').append(exp < 0 ? '-' : '+');
            int abs = Math.abs(exp);
            out.append(abs < 10 ? "0" : "").append(abs);
        }
        return out.toString();
    }

    /**
     * The shortest decimal digits that round to a positive finite double, nearest to it among equally short ones,
     * with the value equal to 0.digits × 10^point.
     */
    private record ShortestDecimal(String digits, int point) {

        static ShortestDecimal of(double v) {
            // Since JDK 19 Double.toString gives the shortest round-tripping digits, except that it never uses
            // fewer than two: it may print 4.9E-324 where one digit (5e-324) would already round-trip.
            BigDecimal bd = new BigDecimal(Double.toString(v)).stripTrailingZeros();
            String digits = bd.unscaledValue().toString();
            int point = digits.length() - bd.scale();
            if (digits.length() == 2) {
                ShortestDecimal one = oneDigit(v, digits, point);
                if (one != null) {
                    return one;
                }
            }
            return new ShortestDecimal(digits, point);
        }

        /** A one-digit decimal next to the two-digit one that also reads back as v (the nearer one if both do). */
        private static ShortestDecimal oneDigit(double v, String twoDigits, int point) {
            int lead = twoDigits.charAt(0) - '0';
            BigDecimal exact = new BigDecimal(v);
            ShortestDecimal best = null;
            BigDecimal bestDistance = null;
            for (int candidate : new int[]{lead, lead + 1}) {
                String digits = candidate == 10 ? "1" : Integer.toString(candidate);
                int p = candidate == 10 ? point + 1 : point;
                BigDecimal value = new BigDecimal(digits).scaleByPowerOfTen(p - 1);
                if (Double.parseDouble(value.toString()) != v) {
                    continue;
                }
                BigDecimal distance = value.subtract(exact).abs();
                if (best == null || distance.compareTo(bestDistance) < 0) {
                    best = new ShortestDecimal(digits, p);
                    bestDistance = distance;
                }
            }
            return best;
        }
    }
}
