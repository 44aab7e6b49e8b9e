package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link PythonJson#dumps} against CPython's {@code json.dumps(obj, indent=4, ensure_ascii=False)}. The expected
 * strings were produced by CPython 3.11 with make_python_json_expected.py (next to the expected file in the test
 * resources); rerun it to regenerate.
 */
class PythonJsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNode EXPECTED = load();

    private static JsonNode load() {
        try (InputStream in = PythonJsonTest.class.getResourceAsStream("python-json-expected.json")) {
            return MAPPER.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read python-json-expected.json", e);
        }
    }

    @TestFactory
    Stream<DynamicTest> documentsMatchPython() {
        List<DynamicTest> tests = new ArrayList<>();
        EXPECTED.get("documents").forEach(doc -> {
            String input = doc.get("input").asText();
            tests.add(DynamicTest.dynamicTest(input.length() > 50 ? input.substring(0, 50) + "…" : input, () -> {
                JsonNode node = MAPPER.readTree(input);
                assertThat(PythonJson.dumps(node)).as("dumps of %s", input).isEqualTo(doc.get("dumps").asText());
            }));
        });
        assertThat(tests).hasSizeGreaterThan(20);
        return tests.stream();
    }

    @Test
    void floatsMatchPythonRepr() {
        JsonNode floats = EXPECTED.get("floats");
        assertThat(floats.size()).isEqualTo(3000);
        var failures = new ArrayList<String>();
        for (JsonNode f : floats) {
            double d = Double.longBitsToDouble(Long.parseUnsignedLong(f.get("bits").asText(), 16));
            String actual = PythonJson.dumps(JsonNodeFactory.instance.numberNode(d));
            if (!actual.equals(f.get("dumps").asText())) {
                failures.add(f.get("bits").asText() + ": python " + f.get("dumps").asText() + ", ours " + actual);
            }
        }
        assertThat(failures).as("doubles rendered differently from Python").isEmpty();
    }

    @Test
    void otherNumberNodesRenderAsPythonWouldAfterParsingTheirText() {
        var f = JsonNodeFactory.instance;
        assertThat(PythonJson.dumps(f.numberNode(0.1f))).isEqualTo("0.1");
        assertThat(PythonJson.dumps(f.numberNode(new BigDecimal("1.10")))).isEqualTo("1.1");
        assertThat(PythonJson.dumps(f.numberNode(new BigDecimal("1E+2")))).isEqualTo("100.0");
        assertThat(PythonJson.dumps(f.numberNode((short) -3))).isEqualTo("-3");
        assertThat(PythonJson.dumps(f.numberNode(Long.MIN_VALUE))).isEqualTo("-9223372036854775808");
    }

    @Test
    void keysKeepInsertionOrder() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("b", 1);
        o.put("a", 2);
        assertThat(PythonJson.dumps(o)).isEqualTo("{\n    \"b\": 1,\n    \"a\": 2\n}");
    }

    @Test
    void nodesWithoutJsonValueAreRejected() {
        assertThatThrownBy(() -> PythonJson.dumps(JsonNodeFactory.instance.missingNode()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MISSING");
    }
}
