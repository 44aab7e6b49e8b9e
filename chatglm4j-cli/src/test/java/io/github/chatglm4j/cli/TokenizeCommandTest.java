package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizeCommandTest {
    private static final JsonNode CASES = Cli.json(Cli.fixtures().resolve("tokenizer/cases.json"));
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void textLinesGiveTheReferencePlainEncodeIds() {
        var input = new StringBuilder();
        List<JsonNode> expected = new ArrayList<>();
        for (JsonNode c : CASES.get("texts")) {
            input.append(c.get("text").toString()).append('\n');
            expected.add(c.get("ids"));
        }
        Cli.Run run = Cli.withStdin(input.toString(), "tokenize", "-m", Cli.tiny().toString());

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).as("one output line per input line").hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(Cli.json(run.outLines().get(i))).as("ids of text %s", CASES.get("texts").get(i).get("text")).isEqualTo(expected.get(i));
        }
    }

    @Test
    void chatObjectsGiveTheReferenceBuildChatInputIds() {
        var input = new StringBuilder();
        List<JsonNode> expected = new ArrayList<>();
        for (JsonNode c : CASES.get("chats")) {
            ObjectNode line = JSON.createObjectNode();
            line.set("history", c.get("history"));
            line.set("query", c.get("query"));
            line.set("role", c.get("role"));
            input.append(line).append('\n');
            expected.add(c.get("ids"));
        }
        Cli.Run run = Cli.withStdin(input.toString(), "tokenize", "-m", Cli.tiny().toString());

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(run.outLines()).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            assertThat(Cli.json(run.outLines().get(i))).as("prompt ids of chat case %d", i).isEqualTo(expected.get(i));
        }
    }

    @Test
    void roleDefaultsToUserAndTheTokenizerFileItselfIsAccepted() {
        JsonNode first = CASES.get("chats").get(0); // {"history": [], "query": "你好", "role": "user"}
        assertThat(first.get("role").asText()).isEqualTo("user");
        String line = "{\"query\": " + first.get("query") + "}\n";

        Cli.Run run = Cli.withStdin(line, "tokenize", "-m", Cli.fixtures().resolve("tokenizer/tokenizer.model").toString());

        assertThat(run.exitCode()).as("%s", run).isZero();
        assertThat(Cli.json(run.out().strip())).isEqualTo(first.get("ids"));
    }

    @Test
    void aBadLineStopsWithItsLineNumberAfterTheGoodOnes() {
        JsonNode text = CASES.get("texts").get(3);
        String input = text.get("text") + "\n\n{\"query\": 5}\n" + text.get("text") + "\n";

        Cli.Run run = Cli.withStdin(input, "tokenize", "-m", Cli.tiny().toString());

        assertThat(run.exitCode()).as("%s", run).isEqualTo(1);
        assertThat(run.outLines()).as("only the line before the bad one is answered").hasSize(1);
        assertThat(Cli.json(run.outLines().getFirst())).isEqualTo(text.get("ids"));
        assertThat(run.errLines()).containsExactly("chatglm: stdin line 3: 'query' must be a string, got number");
    }

    @Test
    void invalidJsonAndUnknownRolesAreOneLineErrors() {
        Cli.Run broken = Cli.withStdin("{\"query\": \n", "tokenize", "-m", Cli.tiny().toString());
        assertThat(broken.exitCode()).isEqualTo(1);
        assertThat(broken.errLines()).singleElement().asString().startsWith("chatglm: stdin line 1: not valid JSON: ");

        Cli.Run role = Cli.withStdin("{\"history\": [{\"role\": \"bot\", \"content\": \"x\"}], \"query\": \"q\"}\n",
                "tokenize", "-m", Cli.tiny().toString());
        assertThat(role.exitCode()).isEqualTo(1);
        assertThat(role.errLines()).singleElement().asString().startsWith("chatglm: stdin line 1: unknown role 'bot'");

        Cli.Run array = Cli.withStdin("[1, 2]\n", "tokenize", "-m", Cli.tiny().toString());
        assertThat(array.errLines()).containsExactly("chatglm: stdin line 1: expected a JSON string (text) or object (chat), got array");
    }

    @Test
    void aMissingModelDirectoryIsNamed() {
        Cli.Run run = Cli.withStdin("\"x\"\n", "tokenize", "-m", "/no/such/model");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.errLines()).containsExactly("chatglm: /no/such/model: no such directory");
    }
}
