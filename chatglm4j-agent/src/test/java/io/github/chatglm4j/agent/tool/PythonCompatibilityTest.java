package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.agent.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The built-in tools' results against CPython's (src/test/python/make_tool_oracle.py). */
class PythonCompatibilityTest {
    private static final JsonNode ORACLE = Fixtures.pythonOracle();

    @Test
    void randintGivesCPythonsNumberForTheSameSeedAndRange() {
        assertThat(ORACLE.get("randint")).hasSizeGreaterThan(5);
        for (JsonNode c : ORACLE.get("randint")) {
            BigInteger value = PythonRandom.randint(new BigInteger(c.get("seed").asText()), new BigInteger(c.get("a").asText()),
                    new BigInteger(c.get("b").asText()));
            assertThat(value).as("random.Random(%s).randint(%s, %s)", c.get("seed").asText(), c.get("a").asText(), c.get("b").asText())
                    .isEqualTo(new BigInteger(c.get("value").asText()));
        }
    }

    @Test
    void reprOfJsonValuesIsCPythons() throws IOException {
        var mapper = new ObjectMapper();
        for (JsonNode c : ORACLE.get("repr")) {
            JsonNode value = mapper.readTree(c.get("value").asText());
            assertThat(PythonRepr.of(value)).as("repr(%s)", c.get("value").asText()).isEqualTo(c.get("repr").asText());
        }
    }
}
