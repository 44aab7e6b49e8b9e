package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.ParseResult;
import io.github.chatglm4j.chat.PythonLiteralParser;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Tool-call arguments written back as ChatGLM3's Python call read back (with the engine's parser) to the same JSON. */
class PythonCallTest {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Test
    void writesTheFormTheModelGenerates() throws Exception {
        // the form in the reference's PROMPT.md and chatglm.cpp's golden tool call
        ObjectNode args = (ObjectNode) new ObjectMapper().readTree("{\"symbol\": \"10111\"}");
        assertThat(PythonCall.fencedToolCall(args)).isEqualTo("```python\ntool_call(symbol='10111')\n```");
        ObjectNode range = (ObjectNode) new ObjectMapper().readTree("{\"seed\": 42, \"range\": [0, 100], \"ok\": true, \"x\": null, \"f\": 0.5}");
        assertThat(PythonCall.toolCall(range)).isEqualTo("tool_call(seed=42, range=[0, 100], ok=True, x=None, f=0.5)");
        assertThat(PythonCall.fencedCode("print(1)")).isEqualTo("```python\nprint(1)\n```");
    }

    @Test
    void stringsAreQuotedLikePythonRepr() {
        var out = new StringBuilder();
        PythonCall.string("it's", out);
        assertThat(out.toString()).isEqualTo("\"it's\"");
        out.setLength(0);
        PythonCall.string("a'b\"c\\\n\t\u0001北京\u2028", out);
        assertThat(out.toString()).isEqualTo("'a\\'b\"c\\\\\\n\\t\\x01北京\\u2028'");
    }

    @Test
    void randomArgumentsRoundTripThroughTheEnginesParser() throws Exception {
        var json = new ObjectMapper();
        var random = new Random(20240607);
        for (int i = 0; i < 500; i++) {
            ObjectNode args = NODES.objectNode();
            int n = random.nextInt(4);
            for (int k = 0; k < n; k++) {
                args.set("arg" + k, value(random, 0));
            }
            String call = PythonCall.toolCall(args);
            ParseResult<ObjectNode> parsed = PythonLiteralParser.parseToolCall(call);
            assertThat(parsed).as("parse of %s", call).isInstanceOf(ParseResult.Ok.class);
            // compared as JSON text read back, so that int and long nodes of equal value count as equal
            assertThat(json.readTree(((ParseResult.Ok<ObjectNode>) parsed).value().toString()))
                    .as("round trip of %s", call).isEqualTo(json.readTree(args.toString()));
        }
    }

    private static JsonNode value(Random r, int depth) {
        int kind = r.nextInt(depth > 2 ? 5 : 7);
        return switch (kind) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(r.nextBoolean());
            case 2 -> NODES.numberNode(r.nextInt(2001) - 1000L);
            case 3 -> NODES.numberNode(Math.round(r.nextGaussian() * 1e6) / 1e3);
            case 4 -> NODES.textNode(text(r));
            case 5 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = r.nextInt(3); i > 0; i--) {
                    a.add(value(r, depth + 1));
                }
                yield a;
            }
            default -> {
                ObjectNode o = NODES.objectNode();
                for (int i = r.nextInt(3); i > 0; i--) {
                    o.set(text(r), value(r, depth + 1));
                }
                yield o;
            }
        };
    }

    private static String text(Random r) {
        String alphabet = "ab '\"\\\n\t北京😀\u0007é";
        var sb = new StringBuilder();
        for (int i = r.nextInt(6); i > 0; i--) {
            sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
        }
        return sb.toString();
    }
}
