package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import io.github.chatglm4j.chat.PythonJson;

import java.util.Map;

/**
 * Writes a tool call's JSON arguments back in the form ChatGLM3 generates them, so that a conversation's history
 * re-encodes to the tokens the model produced: {@code ```python\ntool_call(city='北京', days=[1, 2])\n```}.
 * Values are written as Python's {@code repr} writes them (strings in single quotes unless they contain one and no
 * double quote, True/False/None, lists, dicts).
 */
final class PythonCall {
    private PythonCall() {
    }

    /** The fenced block for an assistant tool-call turn. */
    static String fencedToolCall(JsonNode arguments) {
        return "```python\n" + toolCall(arguments) + "\n```";
    }

    /** The fenced block for a code-interpreter turn; the body keeps (or gets) its final newline, as the model writes it. */
    static String fencedCode(String code) {
        return "```python\n" + code + (code.endsWith("\n") ? "" : "\n") + "```";
    }

    /** {@code tool_call(k=v, ...)} with the object's fields in order. */
    static String toolCall(JsonNode arguments) {
        var out = new StringBuilder("tool_call(");
        boolean first = true;
        for (Map.Entry<String, JsonNode> e : arguments.properties()) {
            out.append(first ? "" : ", ").append(e.getKey()).append('=');
            repr(e.getValue(), out);
            first = false;
        }
        return out.append(')').toString();
    }

    static void repr(JsonNode v, StringBuilder out) {
        switch (v.getNodeType()) {
            case NULL, MISSING -> out.append("None");
            case BOOLEAN -> out.append(v.booleanValue() ? "True" : "False");
            case NUMBER -> out.append(v.isIntegralNumber() ? v.bigIntegerValue().toString()
                    : PythonJson.dumps(DoubleNode.valueOf(v.doubleValue())));
            case STRING, BINARY, POJO -> string(v.asText(), out);
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < v.size(); i++) {
                    out.append(i == 0 ? "" : ", ");
                    repr(v.get(i), out);
                }
                out.append(']');
            }
            case OBJECT -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> e : v.properties()) {
                    out.append(first ? "" : ", ");
                    string(e.getKey(), out);
                    out.append(": ");
                    repr(e.getValue(), out);
                    first = false;
                }
                out.append('}');
            }
        }
    }

    /** Python's {@code repr(str)}. */
    static void string(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            switch (cp) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (cp == quote) {
                        out.append('\\').append(quote);
                    } else if (printable(cp)) {
                        out.appendCodePoint(cp);
                    } else if (cp < 0x100) {
                        out.append(String.format("\\x%02x", cp));
                    } else if (cp < 0x10000) {
                        out.append(String.format("\\u%04x", cp));
                    } else {
                        out.append(String.format("\\U%08x", cp));
                    }
                }
            }
        }
        out.append(quote);
    }

    /** Python's {@code str.isprintable()} for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp, nor Zs other than space. */
    private static boolean printable(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }
}
