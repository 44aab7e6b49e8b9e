package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.text.Normalizer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads the Python call ChatGLM3 writes for a tool, {@code tool_call(city='北京', days=[1, 2])}, into its
 * keyword arguments, without evaluating anything.
 *
 * <p>The reference runs {@code eval} on this text with {@code tool_call(**kwargs)} returning kwargs. This
 * parser accepts the part of that language that denotes plain data, and gives the value
 * {@code json.loads(json.dumps(kwargs))} would give: strings (all quote styles, escapes, {@code r}/{@code u}
 * prefixes, implicit concatenation), ints of any size, floats, True/False/None, lists and tuples (as arrays),
 * dicts (non-string keys written as json.dumps writes them), comments and line continuations. Anything else is
 * an error result: names other than True/False/None, calls, operators, positional arguments, {@code *}/{@code **}
 * unpacking, bytes, f-strings, complex numbers and sets (json.dumps cannot write the last four; a set also has
 * no source order to keep). Nesting is limited to {@value #MAX_DEPTH} brackets, like CPython's tokenizer.
 *
 * <p>Deliberate leniency: blank lines, comments and indentation around the call are accepted, where CPython's
 * {@code eval} raises IndentationError for an indented line after a newline.
 */
public final class PythonLiteralParser {

    /** Bracket nesting limit; CPython's tokenizer stops at the same depth ("too many nested parentheses"). */
    static final int MAX_DEPTH = 200;

    private static final String TOOL_CALL = "tool_call";

    private static final Set<String> KEYWORDS = Set.of(
            "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def",
            "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
            "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String src;
    private int pos;
    /** Offsets of the open brackets; inside any, newlines and comments are plain whitespace. */
    private final Deque<Integer> open = new ArrayDeque<>();

    private PythonLiteralParser(String src) {
        this.src = src;
    }

    /**
     * Parses one {@code tool_call(name=value, ...)} expression (surrounding blank lines and comments allowed)
     * into an object holding the keyword arguments in source order.
     */
    public static ParseResult<ObjectNode> parseToolCall(String source) {
        var p = new PythonLiteralParser(source);
        try {
            return new ParseResult.Ok<>(p.toolCall());
        } catch (Failure f) {
            return new ParseResult.Error<>(f.getMessage(), f.offset);
        }
    }

    /** Parses a single Python literal expression such as {@code [1, 'a', {'k': None}]}. */
    public static ParseResult<JsonNode> parseLiteral(String source) {
        var p = new PythonLiteralParser(source);
        try {
            p.skipBlankLines();
            JsonNode v = p.value();
            p.expectEnd("unexpected text after the value");
            return new ParseResult.Ok<>(v);
        } catch (Failure f) {
            return new ParseResult.Error<>(f.getMessage(), f.offset);
        }
    }

    // ---- grammar -------------------------------------------------------------------------------------------

    private ObjectNode toolCall() {
        skipBlankLines();
        if (atEnd()) {
            throw new Failure("expected tool_call(...) but the code is empty", pos);
        }
        int nameStart = pos;
        String name = identifier();
        if (name == null) {
            throw new Failure("expected tool_call(...), found " + describeChar(), pos);
        }
        if (!name.equals(TOOL_CALL)) {
            throw new Failure("expected a call to tool_call, found '" + name + "'", nameStart);
        }
        skipSpace();
        if (peek() != '(') {
            throw new Failure("expected '(' after tool_call", pos);
        }
        openBracket();
        ObjectNode args = NODES.objectNode();
        skipSpace();
        while (peek() != ')') {
            keywordArgument(args);
            skipSpace();
            if (peek() == ',') {
                pos++;
                skipSpace();
            } else if (peek() != ')') {
                throw atEnd() ? unclosed() : new Failure("expected ',' or ')' after an argument, found " + describeChar(), pos);
            }
        }
        closeBracket();
        expectEnd("unexpected text after the tool_call(...) expression");
        return args;
    }

    private void keywordArgument(ObjectNode args) {
        if (atEnd()) {
            throw unclosed();
        }
        int start = pos;
        if (peek() == '*') {
            throw new Failure("argument unpacking (* or **) is not supported; write name=value", start);
        }
        if (peek() == ',') {
            throw new Failure("unexpected ','", start);
        }
        String name = isStringStart() ? null : identifier();
        if (name != null) {
            skipSpace();
            if (peek() == '=' && peek(1) != '=') {
                if (KEYWORDS.contains(name)) {
                    throw new Failure("'" + name + "' is a Python keyword and cannot be an argument name", start);
                }
                pos++;
                if (args.has(name)) {
                    throw new Failure("keyword argument repeated: " + name, start);
                }
                args.set(name, value());
                return;
            }
        }
        throw new Failure("positional arguments are not supported; tool_call takes name=value arguments only", start);
    }

    private JsonNode value() {
        skipSpace();
        if (atEnd()) {
            throw open.isEmpty() ? new Failure("expected a value but the input ended", pos) : unclosed();
        }
        char c = peek();
        if (c == '-' || c == '+') {
            return signed();
        }
        if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
            return number();
        }
        if (isStringStart()) {
            return strings();
        }
        return switch (c) {
            case '[' -> list();
            case '(' -> tupleOrGroup();
            case '{' -> dictOrSet();
            default -> name();
        };
    }

    private JsonNode signed() {
        int start = pos;
        boolean negate = false;
        while (peek() == '-' || peek() == '+') {
            negate ^= peek() == '-';
            pos++;
            skipSpace();
        }
        JsonNode v = value();
        if (!(v.isIntegralNumber() || v.isDouble())) {
            throw new Failure("unary '+' or '-' applies only to numbers", start);
        }
        if (!negate) {
            return v;
        }
        return v.isDouble() ? DoubleNode.valueOf(-v.doubleValue()) : intNode(v.bigIntegerValue().negate());
    }

    private JsonNode name() {
        int start = pos;
        String id = identifier();
        if (id == null) {
            throw new Failure("unexpected character " + describeChar(), pos);
        }
        return switch (id) {
            case "True" -> BooleanNode.TRUE;
            case "False" -> BooleanNode.FALSE;
            case "None" -> NullNode.getInstance();
            default -> {
                skipSpace();
                String what = switch (peek()) {
                    case '(' -> "a call to '" + id + "'";
                    case '.' -> "attribute access on '" + id + "'";
                    default -> "the name '" + id + "'";
                };
                throw new Failure("only literal values are allowed, not " + what, start);
            }
        };
    }

    private ArrayNode list() {
        int start = pos;
        openBracket();
        ArrayNode items = NODES.arrayNode();
        sequence(items, ']', start);
        closeBracket();
        return items;
    }

    /** {@code (x)} is just x; {@code ()}, {@code (x,)} and {@code (x, y)} are tuples, which JSON writes as arrays. */
    private JsonNode tupleOrGroup() {
        int start = pos;
        openBracket();
        skipSpace();
        if (peek() == ')') {
            closeBracket();
            return NODES.arrayNode();
        }
        JsonNode first = value();
        skipSpace();
        if (peek() == ')') {
            closeBracket();
            return first;
        }
        ArrayNode items = NODES.arrayNode().add(first);
        expectComma(')', start);
        sequence(items, ')', start);
        closeBracket();
        return items;
    }

    /** Items up to (not including) the closing bracket, with an optional trailing comma. */
    private void sequence(ArrayNode items, char close, int start) {
        skipSpace();
        while (peek() != close) {
            if (atEnd()) {
                throw unclosed();
            }
            if (peek() == ',') {
                throw new Failure("unexpected ','", pos);
            }
            if (peek() == '*') {
                throw new Failure("unpacking (*) is not supported", pos);
            }
            items.add(value());
            expectComma(close, start);
        }
    }

    private void expectComma(char close, int start) {
        skipSpace();
        if (peek() == ',') {
            pos++;
            skipSpace();
        } else if (peek() != close) {
            throw atEnd() ? unclosed() : new Failure("expected ',' or '" + close + "', found " + describeChar(), pos);
        }
    }

    private ObjectNode dictOrSet() {
        int start = pos;
        openBracket();
        skipSpace();
        // Python-equal keys (1, 1.0, True) are one entry: first key kept, last value wins.
        Map<Object, Map.Entry<String, JsonNode>> entries = new LinkedHashMap<>();
        while (peek() != '}') {
            if (atEnd()) {
                throw unclosed();
            }
            if (peek() == '*') {
                throw new Failure("unpacking (**) is not supported", pos);
            }
            int keyStart = pos;
            JsonNode key = value();
            skipSpace();
            if (peek() != ':') {
                if (entries.isEmpty() && (peek() == ',' || peek() == '}')) {
                    throw new Failure("set literals are not supported (JSON has no sets, and a set keeps no order)", start);
                }
                throw atEnd() ? unclosed() : new Failure("expected ':' after a dict key, found " + describeChar(), pos);
            }
            pos++;
            JsonNode v = value();
            Object identity = keyIdentity(key, keyStart);
            var previous = entries.get(identity);
            entries.put(identity, Map.entry(previous == null ? jsonKey(key) : previous.getKey(), v));
            expectComma('}', start);
        }
        closeBracket();
        ObjectNode dict = NODES.objectNode();
        // Distinct Python keys can share a JSON spelling (1 and '1'); json.loads keeps the last value then.
        entries.values().forEach(e -> dict.set(e.getKey(), e.getValue()));
        return dict;
    }

    /** A value equal for exactly the keys Python's dict treats as equal. */
    private static Object keyIdentity(JsonNode key, int offset) {
        if (key.isTextual()) {
            return "s" + key.textValue();
        }
        if (key.isNull()) {
            return "None";
        }
        if (key.isBoolean()) {
            return key.booleanValue() ? BigInteger.ONE : BigInteger.ZERO;
        }
        if (key.isIntegralNumber()) {
            return key.bigIntegerValue();
        }
        if (key.isDouble()) {
            double d = key.doubleValue();
            if (Double.isFinite(d) && d == Math.rint(d)) {
                return new BigDecimal(d).toBigIntegerExact();
            }
            return d; // Double.equals: distinct finite values and each infinity differ
        }
        throw new Failure("dict keys must be strings, numbers, True, False or None (JSON cannot write this key)", offset);
    }

    private static String jsonKey(JsonNode key) {
        if (key.isTextual()) {
            return key.textValue();
        }
        if (key.isDouble()) {
            return PythonText.floatKey(key.doubleValue());
        }
        return key.isNull() ? "null" : key.asText(); // ints in decimal, booleans as true/false
    }

    // ---- strings -------------------------------------------------------------------------------------------

    private boolean isStringStart() {
        int i = pos;
        while (i < src.length() && i - pos < 2 && isPrefixLetter(src.charAt(i))) {
            i++;
        }
        return i < src.length() && (src.charAt(i) == '\'' || src.charAt(i) == '"');
    }

    private static boolean isPrefixLetter(char c) {
        return switch (c) {
            case 'r', 'R', 'u', 'U', 'b', 'B', 'f', 'F' -> true;
            default -> false;
        };
    }

    /** One or more adjacent string literals, concatenated as Python does. */
    private TextNode strings() {
        StringBuilder sb = new StringBuilder();
        do {
            string(sb);
            skipSpace();
        } while (isStringStart());
        return TextNode.valueOf(sb.toString());
    }

    private void string(StringBuilder out) {
        int start = pos;
        String prefix = "";
        while (isPrefixLetter(peek())) {
            prefix += Character.toLowerCase(peek());
            pos++;
        }
        switch (prefix) {
            case "", "r", "u" -> { }
            case "b", "br", "rb" -> throw new Failure("bytes literals are not supported (JSON has no bytes)", start);
            case "f", "fr", "rf" -> throw new Failure("f-strings are not supported", start);
            default -> throw new Failure("invalid string prefix '" + src.substring(start, pos) + "'", start);
        }
        boolean raw = prefix.equals("r");
        char quote = peek();
        boolean triple = peek(1) == quote && peek(2) == quote;
        pos += triple ? 3 : 1;
        while (true) {
            if (atEnd()) {
                throw new Failure(triple ? "unterminated triple-quoted string literal" : "unterminated string literal", start);
            }
            char c = src.charAt(pos);
            if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
                pos += triple ? 3 : 1;
                return;
            }
            if (c == '\n' || c == '\r') {
                if (!triple) {
                    throw new Failure("unterminated string literal (a newline inside quotes needs triple quotes or \\n)", start);
                }
                out.append('\n'); // source newlines, \r\n and \r alike, become \n
                pos += lineBreakLength(pos);
            } else if (c == '\\') {
                if (pos + 1 >= src.length()) {
                    throw new Failure(triple ? "unterminated triple-quoted string literal" : "unterminated string literal", start);
                }
                if (raw) {
                    out.append('\\');
                    pos++;
                    if (isLineBreak(peek())) {
                        out.append('\n');
                        pos += lineBreakLength(pos);
                    } else {
                        out.append(src.charAt(pos++));
                    }
                } else {
                    escape(out);
                }
            } else {
                out.append(c);
                pos++;
            }
        }
    }

    private void escape(StringBuilder out) {
        int start = pos;
        pos++; // the backslash
        char c = src.charAt(pos);
        if (isLineBreak(c)) {
            pos += lineBreakLength(pos); // line continuation inside the string
            return;
        }
        pos++;
        switch (c) {
            case '\\', '\'', '"' -> out.append(c);
            case 'a' -> out.append('\u0007');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'n' -> out.append('\n');
            case 'r' -> out.append('\r');
            case 't' -> out.append('\t');
            case 'v' -> out.append('\u000B');
            case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                int v = c - '0';
                for (int n = 1; n < 3 && peek() >= '0' && peek() <= '7'; n++) {
                    v = v * 8 + (src.charAt(pos++) - '0');
                }
                out.append((char) v);
            }
            case 'x' -> out.append((char) hexEscape(2, start, "\\xXX"));
            case 'u' -> out.append((char) hexEscape(4, start, "\\uXXXX"));
            case 'U' -> {
                int cp = hexEscape(8, start, "\\UXXXXXXXX");
                if (cp < 0 || cp > Character.MAX_CODE_POINT) {
                    throw new Failure("illegal Unicode character in \\U escape", start);
                }
                out.appendCodePoint(cp);
            }
            case 'N' -> out.appendCodePoint(namedEscape(start));
            // Python keeps unknown escapes such as \d as they are (with a warning).
            default -> out.append('\\').append(c);
        }
    }

    private int hexEscape(int digits, int start, String form) {
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(peek(), 16);
            if (d < 0 || peek() > 0x7F) {
                throw new Failure("truncated " + form + " escape", start);
            }
            v = (v << 4) | d;
            pos++;
        }
        return v;
    }

    private int namedEscape(int start) {
        int close = src.indexOf('}', pos);
        if (peek() != '{' || close < 0) {
            throw new Failure("malformed \\N{...} escape", start);
        }
        String name = src.substring(pos + 1, close);
        pos = close + 1;
        try {
            // Both languages match Unicode names case-insensitively; Java also trims and accepts
            // "BLOCK NAME HEX" for unnamed code points, which Python does not, so rule those out.
            if (name.isEmpty() || name.charAt(0) <= ' ' || name.charAt(name.length() - 1) <= ' ') {
                throw new IllegalArgumentException(name);
            }
            int cp = Character.codePointOf(name);
            var block = Character.UnicodeBlock.of(cp);
            if (block != null && name.equalsIgnoreCase(
                    block.toString().replace('_', ' ') + " " + Integer.toHexString(cp).toUpperCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException(name);
            }
            return cp;
        } catch (IllegalArgumentException e) {
            throw new Failure("unknown Unicode character name in \\N{" + name + "}", start);
        }
    }

    // ---- numbers -------------------------------------------------------------------------------------------

    private JsonNode number() {
        int start = pos;
        if (peek() == '0' && "xXoObB".indexOf(peek(1)) >= 0) {
            char kind = Character.toLowerCase(peek(1));
            int radix = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
            String what = kind == 'x' ? "hexadecimal" : kind == 'o' ? "octal" : "binary";
            pos += 2;
            StringBuilder digits = new StringBuilder();
            while (true) {
                if (peek() == '_' && digitIn(peek(1), radix)) {
                    pos++;
                }
                if (!digitIn(peek(), radix)) {
                    break;
                }
                digits.append(src.charAt(pos++));
            }
            if (digits.isEmpty() || isIdentifierPart(peek()) || isDigit(peek())) {
                throw new Failure("invalid " + what + " literal", start);
            }
            return intNode(new BigInteger(digits.toString(), radix));
        }
        StringBuilder text = new StringBuilder();
        if (peek() != '.') {
            decimalDigits(text, start);
        }
        boolean isFloat = false;
        if (peek() == '.') {
            isFloat = true;
            text.append('.');
            pos++;
            if (isDigit(peek())) {
                decimalDigits(text, start);
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            isFloat = true;
            text.append('e');
            pos++;
            if (peek() == '+' || peek() == '-') {
                text.append(src.charAt(pos++));
            }
            if (!isDigit(peek())) {
                throw new Failure("invalid decimal literal (exponent without digits)", start);
            }
            decimalDigits(text, start);
        }
        if (peek() == 'j' || peek() == 'J') {
            throw new Failure("complex numbers are not supported (JSON has none)", start);
        }
        if (isIdentifierPart(peek())) {
            throw new Failure("invalid decimal literal", start);
        }
        if (isFloat) {
            return DoubleNode.valueOf(Double.parseDouble(text.toString()));
        }
        String digits = text.toString();
        if (digits.length() > 1 && digits.charAt(0) == '0' && !digits.chars().allMatch(ch -> ch == '0')) {
            throw new Failure("leading zeros in decimal integer literals are not permitted (use 0o for octal)", start);
        }
        return intNode(new BigInteger(digits));
    }

    /** Digits with single underscores between them; the caller has checked that a digit comes first. */
    private void decimalDigits(StringBuilder out, int start) {
        if (!isDigit(peek())) {
            throw new Failure("invalid decimal literal", start);
        }
        while (true) {
            out.append(src.charAt(pos++));
            if (peek() == '_') {
                if (!isDigit(peek(1))) {
                    throw new Failure("invalid decimal literal ('_' must separate digits)", start);
                }
                pos++;
            } else if (!isDigit(peek())) {
                return;
            }
        }
    }

    /** The node Jackson itself would read for this integer, so trees compare equal. */
    private static JsonNode intNode(BigInteger v) {
        int bits = v.bitLength();
        if (bits < 32) {
            return IntNode.valueOf(v.intValue());
        }
        return bits < 64 ? LongNode.valueOf(v.longValue()) : BigIntegerNode.valueOf(v);
    }

    private static boolean digitIn(char c, int radix) {
        return c < 0x80 && Character.digit(c, radix) >= 0;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    // ---- lexical helpers -----------------------------------------------------------------------------------

    /** An identifier at pos (NFKC-normalised, as Python does), or null without moving if there is none. */
    private String identifier() {
        if (atEnd() || !isIdentifierStart(src.codePointAt(pos))) {
            return null;
        }
        int start = pos;
        pos += Character.charCount(src.codePointAt(pos));
        while (!atEnd() && isIdentifierPart(src.codePointAt(pos))) {
            pos += Character.charCount(src.codePointAt(pos));
        }
        return Normalizer.normalize(src.substring(start, pos), Normalizer.Form.NFKC);
    }

    private static boolean isIdentifierStart(int cp) {
        return cp == '_' || Character.isUnicodeIdentifierStart(cp);
    }

    private static boolean isIdentifierPart(int cp) {
        return cp == '_' || (Character.isUnicodeIdentifierPart(cp) && !Character.isIdentifierIgnorable(cp));
    }

    /** Spaces, tabs, form feeds and backslash-newline; inside brackets also newlines and comments. */
    private void skipSpace() {
        while (!atEnd()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\f') {
                pos++;
            } else if (c == '\\' && isLineBreak(peek(1))) {
                pos += 1 + lineBreakLength(pos + 1);
            } else if (!open.isEmpty() && isLineBreak(c)) {
                pos++;
            } else if (!open.isEmpty() && c == '#') {
                skipComment();
            } else {
                return;
            }
        }
    }

    /** Whitespace, newlines and comments outside any bracket: before and after the whole expression. */
    private void skipBlankLines() {
        while (!atEnd()) {
            skipSpace();
            if (peek() == '#') {
                skipComment();
            } else if (isLineBreak(peek())) {
                pos++;
            } else {
                return;
            }
        }
    }

    private void skipComment() {
        while (!atEnd() && !isLineBreak(src.charAt(pos))) {
            pos++;
        }
    }

    private void expectEnd(String message) {
        skipBlankLines();
        if (!atEnd()) {
            throw new Failure(message + ": " + describeChar(), pos);
        }
    }

    private void openBracket() {
        if (open.size() >= MAX_DEPTH) {
            throw new Failure("too deeply nested (more than " + MAX_DEPTH + " brackets)", pos);
        }
        open.push(pos++);
    }

    private void closeBracket() {
        open.pop();
        pos++;
    }

    private Failure unclosed() {
        int at = open.isEmpty() ? pos : open.peek();
        return new Failure("'" + src.charAt(at) + "' was never closed (input ended)", at);
    }

    private static boolean isLineBreak(char c) {
        return c == '\n' || c == '\r';
    }

    private int lineBreakLength(int at) {
        return src.charAt(at) == '\r' && at + 1 < src.length() && src.charAt(at + 1) == '\n' ? 2 : 1;
    }

    private boolean atEnd() {
        return pos >= src.length();
    }

    /** The char at pos + ahead, or 0 past the end (0 matches nothing the grammar looks for). */
    private char peek(int ahead) {
        int i = pos + ahead;
        return i < src.length() ? src.charAt(i) : 0;
    }

    private char peek() {
        return peek(0);
    }

    private String describeChar() {
        if (atEnd()) {
            return "end of input";
        }
        int cp = src.codePointAt(pos);
        return cp >= 0x20 && cp != 0x7F ? "'" + Character.toString(cp) + "'" : String.format("U+%04X", cp);
    }

    /** Unwinds to the public entry points, which turn it into an {@link ParseResult.Error}. */
    private static final class Failure extends RuntimeException {
        final int offset;

        Failure(String message, int offset) {
            super(message, null, false, false);
            this.offset = offset;
        }
    }
}
