package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static io.github.chatglm4j.chat.PythonOracle.assertSameJson;
import static io.github.chatglm4j.chat.PythonOracle.parseJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/** Compares the Python-syntax code with CPython's own results, recorded by make_chat_oracle.py. */
class PythonOracleTest {

    private static Stream<JsonNode> section(String name) {
        JsonNode node = PythonOracle.root().get(name);
        assertThat(node).as("oracle section " + name).isNotNull();
        return StreamSupport.stream(node.spliterator(), false);
    }

    private static String show(String source) {
        return "⟨" + source.replace("\n", "\\n").replace("\r", "\\r") + "⟩";
    }

    @TestFactory
    Stream<DynamicTest> literalsMatchLiteralEvalThenJsonDumps() {
        return section("literals").map(entry -> {
            String source = entry.get("source").textValue();
            return dynamicTest(show(source), () -> {
                ParseResult<JsonNode> result = PythonLiteralParser.parseLiteral(source);
                if (entry.has("json") && !entry.has("rejected_on_purpose")) {
                    JsonNode expected = parseJson(entry.get("json").textValue());
                    assertThat(result).as("Python accepts %s", show(source)).isInstanceOf(ParseResult.Ok.class);
                    assertSameJson(((ParseResult.Ok<JsonNode>) result).value(), expected, "value of " + show(source));
                    // The same value as a keyword argument; the newline ends a trailing comment.
                    ParseResult<ObjectNode> call = PythonLiteralParser.parseToolCall("tool_call(v=" + source + "\n)");
                    assertThat(call).as("tool_call(v=%s)", show(source)).isInstanceOf(ParseResult.Ok.class);
                    assertSameJson(((ParseResult.Ok<ObjectNode>) call).value().get("v"), expected,
                            "argument value of " + show(source));
                } else {
                    String why = entry.has("error") ? entry.get("error").textValue() : entry.get("rejected_on_purpose").textValue();
                    assertThat(result).as("Python/JSON refuses %s (%s)", show(source), why).isInstanceOf(ParseResult.Error.class);
                }
            });
        });
    }

    @TestFactory
    Stream<DynamicTest> toolCallsMatchEvalWithKwargsFunction() {
        return section("tool_calls").map(entry -> {
            String source = entry.get("source").textValue();
            return dynamicTest(show(source), () -> {
                ParseResult<ObjectNode> result = PythonLiteralParser.parseToolCall(source);
                if (entry.has("json") && !entry.has("rejected_on_purpose")) {
                    assertThat(result).as("Python evaluates %s", show(source)).isInstanceOf(ParseResult.Ok.class);
                    assertSameJson(((ParseResult.Ok<ObjectNode>) result).value(), parseJson(entry.get("json").textValue()),
                            "kwargs of " + show(source));
                } else {
                    assertThat(result).as("Python refuses %s", show(source)).isInstanceOf(ParseResult.Error.class);
                }
            });
        });
    }

    @Test
    void floatKeysAreWrittenLikePythonRepr() {
        List<String> mismatches = new ArrayList<>();
        section("float_repr").forEach(pair -> {
            double x = Double.longBitsToDouble(Long.parseUnsignedLong(pair.get(0).textValue(), 16));
            String expected = pair.get(1).textValue();
            String actual = PythonText.floatRepr(x);
            if (!actual.equals(expected)) {
                mismatches.add(pair.get(0).textValue() + ": python " + expected + ", java " + actual);
            }
        });
        assertThat(mismatches).as("repr(float) mismatches").isEmpty();
    }

    @Test
    void stripRemovesExactlyWhatPythonIsspaceAccepts() {
        Set<Integer> python = new HashSet<>();
        section("isspace").forEach(cp -> python.add(cp.intValue()));
        List<String> mismatches = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (PythonText.isSpace(cp) != python.contains(cp)) {
                mismatches.add(String.format("U+%04X python=%s", cp, python.contains(cp)));
            }
        }
        assertThat(mismatches).isEmpty();
    }

    @TestFactory
    Stream<DynamicTest> extractCodeMatchesTheDemoRegexWhereItMatches() {
        return section("extract_code").filter(e -> !e.get("code").isNull()).map(entry -> {
            String text = entry.get("text").textValue();
            return dynamicTest(show(text), () -> assertThat(ResponseParser.extractCode(text))
                    .as("code of %s", show(text)).isEqualTo(entry.get("code").textValue()));
        });
    }
}
