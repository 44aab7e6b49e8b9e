package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The parser's own contract: error messages and offsets, limits, and the choices where it departs from
 * {@code eval}. Value correctness against CPython is in {@link PythonOracleTest}.
 */
class PythonLiteralParserTest {

    private static ObjectNode ok(String source) {
        ParseResult<ObjectNode> r = PythonLiteralParser.parseToolCall(source);
        assertThat(r).as("result for %s", source).isInstanceOf(ParseResult.Ok.class);
        return ((ParseResult.Ok<ObjectNode>) r).value();
    }

    private static java.util.List<String> names(ObjectNode node) {
        var names = new java.util.ArrayList<String>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static ParseResult.Error<?> error(ParseResult<?> r, String source) {
        assertThat(r).as("result for %s", source).isInstanceOf(ParseResult.Error.class);
        return (ParseResult.Error<?>) r;
    }

    private static ParseResult.Error<?> callError(String source) {
        return error(PythonLiteralParser.parseToolCall(source), source);
    }

    @Test
    void keywordArgumentsKeepSourceOrder() {
        assertThat(names(ok("tool_call(z=1, a=2, m=3)"))).containsExactly("z", "a", "m");
    }

    @Test
    void integersBecomeTheSmallestJacksonNodeThatHoldsThem() {
        ObjectNode args = ok("tool_call(i=-2147483648, l=2147483648, b=-9223372036854775809)");
        assertThat(args.get("i")).isInstanceOf(IntNode.class);
        assertThat(args.get("l")).isInstanceOf(LongNode.class);
        assertThat(args.get("b")).isInstanceOf(BigIntegerNode.class);
        assertThat(args.get("b").bigIntegerValue()).hasToString("-9223372036854775809");
    }

    @Test
    void unicodeArgumentNamesAreNfkcNormalisedLikePython() {
        assertThat(names(ok("tool_call(ｃｉｔｙ='x', 城市='北京')"))).containsExactly("city", "城市");
    }

    @Test
    void surroundingBlankLinesCommentsAndIndentationAreAccepted() {
        // CPython's eval raises IndentationError for the indented variant; accepting it is deliberate.
        assertThat(ok("\n\n   # the call\n  tool_call(a=1)  # done\n\n  \n").get("a").intValue()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            tool_call(a=1                  | '(' was never closed          | 9
            tool_call(a=[1, 2              | '[' was never closed          | 12
            tool_call(a={'k': (1,          | '(' was never closed          | 18
            tool_call(a=                   | '(' was never closed          | 9
            tool_call(a='abc               | unterminated string literal   | 12
            tool_call(a='''abc''           | unterminated triple-quoted    | 12
            tool_call                      | expected '(' after tool_call  | 9
            ""                             | the code is empty             | 0
            """)
    void truncatedInputNamesWhatIsOpenAndWhere(String source, String message, int offset) {
        var e = callError(source);
        assertThat(e.message()).as("message for %s", source).contains(message);
        assertThat(e.offset()).as("offset for %s", source).isEqualTo(offset);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            foo(a=1)                        | expected a call to tool_call, found 'foo'           | 0
            tool_call(a=foo)                | not the name 'foo'                                  | 12
            tool_call(a=foo(1))             | not a call to 'foo'                                 | 12
            tool_call(a=os.system('rm'))    | not attribute access on 'os'                        | 12
            tool_call(a=__import__('os'))   | not a call to '__import__'                          | 12
            tool_call(1)                    | positional arguments are not supported              | 10
            tool_call(a=1, 'x')             | positional arguments are not supported              | 15
            tool_call(**{'a': 1})           | unpacking                                           | 10
            tool_call(a=1, a=2)             | keyword argument repeated: a                        | 15
            tool_call(class=1)              | 'class' is a Python keyword                         | 10
            tool_call(a=1) + 1              | unexpected text after the tool_call(...) expression | 15
            tool_call\\n(a=1)               | expected '(' after tool_call                        | 9
            tool_call(a=b'x')               | bytes literals are not supported                    | 12
            tool_call(a=f'{x}')             | f-strings are not supported                         | 12
            tool_call(a={1, 2})             | set literals are not supported                      | 12
            tool_call(a=1j)                 | complex numbers are not supported                   | 12
            tool_call(a=-'x')               | unary '+' or '-' applies only to numbers            | 12
            tool_call(a={(1, 2): 3})        | dict keys must be strings, numbers                  | 13
            tool_call(a=017)                | leading zeros                                       | 12
            tool_call(a='\\x4')             | truncated \\xXX escape                              | 13
            tool_call(a='\\N{NO SUCH}')     | unknown Unicode character name                      | 13
            tool_call(a=[1 2])              | expected ',' or ']'                                 | 15
            """)
    void refusedInputSaysWhyAndWhere(String rawSource, String message, int offset) {
        String source = rawSource.replace("\\n", "\n");
        var e = callError(source);
        assertThat(e.message()).as("message for %s", source).contains(message);
        assertThat(e.offset()).as("offset for %s", source).isEqualTo(offset);
    }

    @Test
    void errorDescriptionCountsLinesAndColumns() {
        String source = "tool_call(\n    a=1,\n    b=oops,\n)";
        var e = callError(source);
        assertThat(e.describe(source)).isEqualTo("only literal values are allowed, not the name 'oops' (line 3, column 7)");
    }

    @Test
    void nestingUpToTheLimitParses() {
        int inner = PythonLiteralParser.MAX_DEPTH - 1; // the call's own parenthesis is one level
        String source = "tool_call(a=" + "[".repeat(inner) + "]".repeat(inner) + ")";
        JsonNode v = ok(source).get("a");
        for (int i = 1; i < inner; i++) {
            v = v.get(0);
        }
        assertThat(v.isArray() && v.isEmpty()).as("innermost value is an empty list").isTrue();
    }

    @Test
    void deeperNestingIsAnErrorNotAStackOverflow() {
        String source = "tool_call(a=" + "[{'k': (".repeat(100_000);
        var e = callError(source);
        assertThat(e.message()).contains("too deeply nested");
        assertThat(e.offset()).isLessThan(4 * PythonLiteralParser.MAX_DEPTH);
    }

    @Test
    void longSignChainsAndLongStringsDoNotRecurse() {
        assertThat(ok("tool_call(a=" + "-".repeat(200_001) + "1)").get("a").intValue()).isEqualTo(-1);
        assertThat(ok("tool_call(a=" + "'x' ".repeat(50_000) + ")").get("a").textValue()).hasSize(50_000);
    }

    @Test
    void anyInputGivesAResultNeverAnException() {
        // Fragments of the grammar, shuffled: exercises every error path without a fixed expectation.
        String[] pieces = {"tool_call", "(", ")", "[", "]", "{", "}", ",", ":", "=", "a", "'", "\"", "'''", "\\",
                "\\x", "\\N{", "\\u12", "0x", "1_", "1e", ".", "-", "+", "#", "\n", "\r", " ", "True", "None", "r",
                "b", "f", "*", "**", "1", "1.5", "北京", "\uD83D", "\u0000", "j", "_"};
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder(i % 2 == 0 ? "tool_call(" : "");
            int n = random.nextInt(12);
            for (int k = 0; k < n; k++) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String source = sb.toString();
            ParseResult<ObjectNode> r = PythonLiteralParser.parseToolCall(source);
            if (r instanceof ParseResult.Error<ObjectNode> e) {
                assertThat(e.offset()).as("offset for %s", source).isBetween(0, source.length());
                assertThat(e.message()).as("message for %s", source).isNotBlank().doesNotContain("\n");
            }
            assertThat(PythonLiteralParser.parseLiteral(source)).isNotNull();
        }
    }
}
