package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static io.github.chatglm4j.chat.PythonOracle.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

class ResponseParserTest {

    private static final String A = "<|assistant|>";

    private static <T extends AssistantReply> T reply(ResponseParser.Parsed parsed, Class<T> kind) {
        assertThat(parsed.reply()).as("reply").isInstanceOf(kind);
        return kind.cast(parsed.reply());
    }

    private static void assertMessage(ChatMessage m, String metadata, String content) {
        assertThat(m.role()).isEqualTo(Role.ASSISTANT);
        assertThat(m.metadata()).as("metadata").isEqualTo(metadata);
        assertThat(m.content()).as("content").isEqualTo(content);
    }

    // ---- against process_response as restated in Python (make_chat_oracle.py) ----------------------------

    @TestFactory
    Stream<DynamicTest> agreesWithProcessResponse() {
        JsonNode cases = PythonOracle.root().get("responses");
        return StreamSupport.stream(cases.spliterator(), false).map(c -> {
            String output = c.get("output").textValue();
            boolean tools = c.get("tools").booleanValue();
            return dynamicTest("⟨" + output.replace("\n", "\\n") + "⟩ tools=" + tools, () -> {
                var parsed = ResponseParser.parse(output, tools);
                JsonNode history = c.get("history_stripped");
                assertThat(parsed.messages()).as("history entries").hasSize(history.size());
                for (int i = 0; i < history.size(); i++) {
                    assertMessage(parsed.messages().get(i), history.get(i).get("metadata").textValue(),
                            history.get(i).get("content").textValue());
                }
                JsonNode ref = c.get("reply");
                if (ref.isTextual()) {
                    assertThat(parsed.reply()).isEqualTo(new AssistantReply.Text(ref.textValue()));
                    return;
                }
                String name = ref.get("name").textValue();
                if (ref.has("parameters")) {
                    var call = reply(parsed, AssistantReply.ToolCall.class);
                    assertThat(call.name()).isEqualTo(name);
                    assertSameJson(call.arguments(), ref.get("parameters"), "arguments");
                } else if (name.equals("interpreter")) {
                    assertThat(parsed.reply()).isEqualTo(new AssistantReply.CodeInterpreter(c.get("interpreter_code").textValue()));
                } else {
                    // The reference raised (ref has "error") or returned name + raw content (no tools declared);
                    // the outcome kind is pinned case by case below, here only what must hold in any case.
                    switch (parsed.reply()) {
                        case AssistantReply.ToolCall call -> assertThat(call.name()).isEqualTo(name);
                        case AssistantReply.MalformedToolCall bad -> {
                            assertThat(bad.name()).isEqualTo(name);
                            if (ref.has("content")) {
                                assertThat(bad.rawContent()).isEqualTo(ref.get("content").textValue());
                            }
                        }
                        default -> throw new AssertionError("expected a tool call outcome, got " + parsed.reply());
                    }
                }
            });
        });
    }

    // ---- the cases one by one ---------------------------------------------------------------------------

    @Test
    void plainReplyDropsTheLeadingNewlineAndSpace() {
        var parsed = ResponseParser.parse("\n 你好👋！我是人工智能助手 ChatGLM3-6B。 ", false);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.Text("你好👋！我是人工智能助手 ChatGLM3-6B。"));
        assertThat(parsed.messages()).hasSize(1);
        assertMessage(parsed.messages().getFirst(), "", "你好👋！我是人工智能助手 ChatGLM3-6B。");
    }

    @Test
    void trainingTimePlaceholderIsReplacedInTheReplyButNotInHistory() {
        var parsed = ResponseParser.parse("\n 截止到[[训练时间]]。", false);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.Text("截止到2023年。"));
        assertMessage(parsed.messages().getFirst(), "", "截止到[[训练时间]]。");
    }

    @Test
    void toolCallFirstGivesNameArgumentsAndCode() {
        var parsed = ResponseParser.parse("get_weather\n ```python\ntool_call(city='北京', days=3)\n```", true);
        var call = reply(parsed, AssistantReply.ToolCall.class);
        assertThat(call.name()).isEqualTo("get_weather");
        assertThat(call.code()).isEqualTo("tool_call(city='北京', days=3)");
        assertThat(call.arguments()).isEqualTo(JsonNodeFactory.instance.objectNode().put("city", "北京").put("days", 3));
        assertMessage(parsed.messages().getFirst(), "get_weather", "```python\ntool_call(city='北京', days=3)\n```");
    }

    @Test
    void textThenToolCallKeepsBothInHistoryWithoutTheDecodingSpace() {
        var parsed = ResponseParser.parse("好的，我来查询。" + A + " get_weather\n ```python\ntool_call(city='上海')\n```", true);
        assertThat(parsed.messages()).hasSize(2);
        assertMessage(parsed.messages().get(0), "", "好的，我来查询。");
        assertMessage(parsed.messages().get(1), "get_weather", "```python\ntool_call(city='上海')\n```");
        assertThat(reply(parsed, AssistantReply.ToolCall.class).arguments().get("city").textValue()).isEqualTo("上海");
    }

    @Test
    void interpreterTurnGivesTheFencedCode() {
        var parsed = ResponseParser.parse("Some text" + A + " interpreter\n ```python\nprint(1)\n```", false);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.CodeInterpreter("print(1)\n"));
        assertMessage(parsed.messages().get(1), "interpreter", "```python\nprint(1)\n```");
    }

    @Test
    void interpreterStaysCodeEvenWhenToolsAreDeclared() {
        var parsed = ResponseParser.parse("interpreter\n```python\nimport os\n```", true);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.CodeInterpreter("import os\n"));
    }

    @Test
    void callCutOffBeforeTheClosingFenceStillParses() {
        // The reference drops the last line unconditionally and fails here (issue #897).
        var parsed = ResponseParser.parse("get_weather\n ```python\ntool_call(city='北京')", true);
        var call = reply(parsed, AssistantReply.ToolCall.class);
        assertThat(call.code()).isEqualTo("tool_call(city='北京')");
        assertThat(call.arguments().get("city").textValue()).isEqualTo("北京");
    }

    @Test
    void callCutOffInsideTheArgumentsIsMalformedWithPosition() {
        String output = "get_weather\n ```python\ntool_call(city='北";
        var bad = reply(ResponseParser.parse(output, true), AssistantReply.MalformedToolCall.class);
        assertThat(bad.name()).isEqualTo("get_weather");
        assertThat(bad.rawContent()).isEqualTo(" ```python\ntool_call(city='北");
        assertThat(bad.error()).isEqualTo(
                "cannot read the call to get_weather: unterminated string literal (line 1, column 16)");
    }

    @Test
    void toolNameWithoutNewlineIsTextLikeTheReference() {
        var parsed = ResponseParser.parse("get_weather", true);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.Text("get_weather"));
    }

    @Test
    void callWithoutFencesParses() {
        var call = reply(ResponseParser.parse("track\ntool_call(symbol='10111')", true), AssistantReply.ToolCall.class);
        assertThat(call.arguments().get("symbol").textValue()).isEqualTo("10111");
    }

    @Test
    void callWithTextAfterTheClosingFenceParses() {
        var call = reply(ResponseParser.parse("track\n```python\ntool_call(symbol='1')\n```\n\nDone.", true),
                AssistantReply.ToolCall.class);
        assertThat(call.code()).isEqualTo("tool_call(symbol='1')");
    }

    @Test
    void malformedPythonIsReportedNotThrown() {
        String output = "get_weather\n ```python\ntool_call(city=北京)\n```";
        var bad = reply(ResponseParser.parse(output, true), AssistantReply.MalformedToolCall.class);
        assertThat(bad.rawContent()).isEqualTo(" ```python\ntool_call(city=北京)\n```");
        assertThat(bad.error()).contains("the name '北京'").contains("line 1, column 16").doesNotContain("declared no tools");
    }

    @Test
    void positionalArgumentIsMalformed() {
        var bad = reply(ResponseParser.parse("get_weather\n```python\ntool_call('北京')\n```", true),
                AssistantReply.MalformedToolCall.class);
        assertThat(bad.error()).contains("positional arguments are not supported");
    }

    @Test
    void multipleSegmentsAllGoToHistoryAndTheLastDecides() {
        var parsed = ResponseParser.parse("first" + A + "\n second" + A + " third\nbody", false);
        assertThat(parsed.messages()).hasSize(3);
        assertMessage(parsed.messages().get(0), "", "first");
        assertMessage(parsed.messages().get(1), "", "second");
        assertMessage(parsed.messages().get(2), "third", "body");
        var bad = reply(parsed, AssistantReply.MalformedToolCall.class);
        assertThat(bad.name()).isEqualTo("third");
        assertThat(bad.error()).endsWith("(the conversation declared no tools)");
    }

    @Test
    void trailingSeparatorGivesAnEmptyLastTurn() {
        var parsed = ResponseParser.parse("a" + A + "b" + A, false);
        assertThat(parsed.messages()).hasSize(3);
        assertThat(parsed.reply()).isEqualTo(new AssistantReply.Text(""));
    }

    @Test
    void undeclaredToolCallIsStillACall() {
        var call = reply(ResponseParser.parse("track\n ```python\ntool_call(symbol='10111')\n```", false),
                AssistantReply.ToolCall.class);
        assertThat(call.name()).isEqualTo("track");
    }

    @Test
    void historyOverloadReadsToolsFromTheSystemTurn() {
        var tools = JsonNodeFactory.instance.arrayNode().add(JsonNodeFactory.instance.objectNode().put("name", "t"));
        List<ChatMessage> withTools = List.of(ChatMessage.system("Answer…", tools), ChatMessage.user("q"));
        List<ChatMessage> without = List.of(ChatMessage.system("You are helpful."), ChatMessage.user("q"));
        String output = "t\n```python\ntool_call(x)\n```";
        assertThat(reply(ResponseParser.parse(output, withTools), AssistantReply.MalformedToolCall.class).error())
                .doesNotContain("declared no tools");
        assertThat(reply(ResponseParser.parse(output, without), AssistantReply.MalformedToolCall.class).error())
                .contains("declared no tools");
        assertThat(reply(ResponseParser.parse(output, List.of()), AssistantReply.MalformedToolCall.class).error())
                .contains("declared no tools");
    }

    @Test
    void extractCodeWhenTheDemoRegexFindsNothing() {
        assertThat(ResponseParser.extractCode("```python\nprint('a')")).isEqualTo("print('a')");
        assertThat(ResponseParser.extractCode("```python")).isEmpty();
        assertThat(ResponseParser.extractCode("  print(1)\n")).isEqualTo("print(1)");
        assertThat(ResponseParser.extractCode("")).isEmpty();
    }

    @Test
    void anyTextGivesAParseNeverAnException() {
        String[] pieces = {A, "\n", " ", "```", "```python\n", "tool_call(", ")", "a=", "'x'", "'", "interpreter",
                "get_weather", "[[训练时间]]", "\u00a0", "<|observation|>", "北京", "\r\n", ","};
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(10); k > 0; k--) {
                sb.append(pieces[random.nextInt(pieces.length)]);
            }
            String output = sb.toString();
            var parsed = ResponseParser.parse(output, random.nextBoolean());
            assertThat(parsed.messages()).as("entries for %s", output)
                    .hasSize(output.split(java.util.regex.Pattern.quote(A), -1).length);
            assertThat(ResponseParser.extractCode(output)).isNotNull();
        }
    }
}
