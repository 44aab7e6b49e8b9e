package io.github.chatglm4j.agent.tool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Calls go through the registry with the reference's semantics; every failure is a text the model can read. */
class ToolCallTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode args(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void anUnknownToolGetsTheReferenceDemosAnswer() {
        ToolResult r = new ToolRegistry().add(BuiltinTools.randomNumberGenerator()).call("get_stock", args("{}"));

        assertThat(r.failed()).isTrue();
        assertThat(r.text()).isEqualTo("Tool `get_stock` not found. Please use a provided tool.");
    }

    @Test
    void callsThatDoNotBindFailWithPythonsOwnTypeErrorText() {
        for (JsonNode c : Fixtures.pythonOracle().get("call_errors")) {
            var params = new ArrayList<ToolParameter>();
            c.get("params").forEach(p -> params.add(ToolParameter.required(p.asText(), "int", "")));
            var tools = new ToolRegistry().add(c.get("tool").asText(), "", params, a -> "called");

            ToolResult r = tools.call(c.get("tool").asText(), (ObjectNode) c.get("arguments"));

            assertThat(r.text()).as("%s", c.get("arguments")).isEqualTo(c.get("message").asText());
            assertThat(r.failed()).isTrue();
        }
    }

    @Test
    void randomNumberGeneratorAnswersWithCPythonsNumber() {
        var tools = new ToolRegistry().add(BuiltinTools.randomNumberGenerator());
        JsonNode first = Fixtures.pythonOracle().get("randint").get(0); // seed 42, range (0, 100): the demo's example call

        ToolResult r = tools.call("random_number_generator", args("{\"seed\": 42, \"range\": [0, 100]}"));

        assertThat(first.get("seed").asText()).isEqualTo("42");
        assertThat(r).isEqualTo(new ToolResult(first.get("value").asText(), false));
    }

    @Test
    void randomNumberGeneratorChecksItsArgumentsWithTheReferencesMessages() {
        var tools = new ToolRegistry().add(BuiltinTools.randomNumberGenerator());

        assertThat(tools.call("random_number_generator", args("{\"seed\": \"x\", \"range\": [0, 1]}")).text())
                .isEqualTo("TypeError: Seed must be an integer");
        assertThat(tools.call("random_number_generator", args("{\"seed\": 1, \"range\": 5}")).text())
                .isEqualTo("TypeError: Range must be a tuple");
        assertThat(tools.call("random_number_generator", args("{\"seed\": 1, \"range\": [0, \"9\"]}")).text())
                .isEqualTo("TypeError: Range must be a tuple of integers");
        assertThat(tools.call("random_number_generator", args("{\"seed\": 1, \"range\": [5, 1]}")).text())
                .isEqualTo("ValueError: empty range for randrange() (5, 2, -3)");
    }

    @Test
    void aToolThatThrowsIsReportedByExceptionNameAndMessage() {
        var tools = new ToolRegistry()
                .add("explode", "", List.of(), a -> {
                    throw new IllegalStateException("the database is down");
                })
                .add("refuse", "", List.of(), a -> {
                    throw ToolException.valueError("no such city");
                });

        assertThat(tools.call("explode", args("{}"))).isEqualTo(new ToolResult("IllegalStateException: the database is down", true));
        assertThat(tools.call("refuse", args("{}"))).isEqualTo(new ToolResult("ValueError: no such city", true));
    }

    @Test
    void annotatedMethodsAreCalledWithConvertedArgumentsAndAnswerWithPythonsStr() {
        var tools = new ToolRegistry().addMethods(new ToolPromptTest.Shop());

        assertThat(tools.call("price", args("{\"product\": \"tea\", \"count\": 2, \"tags\": [\"green\"]}")).text()).isEqualTo("6.0");
        assertThat(tools.call("price", args("{\"product\": \"tea\"}")).text()).as("optional ones are null").isEqualTo("2.5");
        assertThat(tools.call("stock", args("{\"shelves\": [3, 4]}")).text()).isEqualTo("[3, 'apples', True]");
        assertThat(tools.call("price", args("{\"product\": 7}")).text()).isEqualTo("TypeError: price() argument 'product' must be str, not int");
    }

    @Test
    void aDeclaredToolWithoutImplementationSaysSo() {
        var tools = new ToolRegistry().add(new Tool("lookup", "", List.of(), JSON.createObjectNode().put("name", "lookup"), null));

        assertThat(tools.call("lookup", args("{}")).text()).isEqualTo("Tool `lookup` is declared but has no implementation here.");
    }
}
