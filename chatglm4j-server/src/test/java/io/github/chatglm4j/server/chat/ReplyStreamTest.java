package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.github.chatglm4j.generate.FinishReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The reply translator gives the same result however the decoded text is split into pieces. */
class ReplyStreamTest {
    static final ToolSet NONE = new ToolSet(JsonNodeFactory.instance.arrayNode(), Set.of(), false, null, false);
    static final ToolSet WEATHER = new ToolSet(JsonNodeFactory.instance.arrayNode(), Set.of("get_weather", "interpreter"), true, null, false);

    record Outcome(String content, String call, String finish) {
    }

    static Outcome run(ToolSet tools, String prefill, List<String> pieces, FinishReason reason) {
        var stream = new ReplyStream(tools, prefill);
        List<ReplyStream.Delta> deltas = new ArrayList<>();
        for (String p : pieces) {
            deltas.addAll(stream.push(p));
        }
        ReplyStream.Finish f = stream.finish(reason);
        deltas.addAll(f.deltas());
        var content = new StringBuilder();
        String call = null;
        for (ReplyStream.Delta d : deltas) {
            switch (d) {
                case ReplyStream.Delta.Content c -> {
                    assertThat(call).as("no text after the tool call").isNull();
                    assertThat(c.text()).isNotEmpty();
                    content.append(c.text());
                }
                case ReplyStream.Delta.ToolCall t -> call = t.name() + " " + t.arguments();
            }
        }
        return new Outcome(content.toString(), call, f.finishReason());
    }

    static List<String> split(String text, Random r) {
        List<String> pieces = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + 1 + r.nextInt(5));
            if (Character.isHighSurrogate(text.charAt(end - 1)) && end < text.length()) {
                end++;
            }
            pieces.add(text.substring(i, end));
            i = end;
        }
        return pieces;
    }

    @Test
    void everySplitGivesTheWholeTextResult() {
        String[][] cases = {
                {"\n Hello  world! \n", "Hello  world!"},
                {"\n 你好👋！我是人工智能助手。", "你好👋！我是人工智能助手。"},
                {"\n a < b <| c <|assist", "a < b <| c <|assist"},
                {"\n Let me compute.<|assistant|> interpreter\n ```python\nprint(1)\n```", "Let me compute.\ninterpreter\n ```python\nprint(1)\n```"},
                {"no newline at all", "no newline at all"},
        };
        var r = new Random(7);
        for (String[] c : cases) {
            for (int trial = 0; trial < 50; trial++) {
                Outcome o = run(NONE, "", split(c[0], r), FinishReason.STOP);
                assertThat(o.content()).as("rendering of %s", c[0]).isEqualTo(c[1]);
                assertThat(o.call()).isNull();
                assertThat(o.finish()).isEqualTo("stop");
            }
        }
    }

    @Test
    void toolCallsAreRecognisedInAnySplit() {
        var r = new Random(11);
        String call = "get_weather\n ```python\ntool_call(city='北京')\n```";
        String textThenCode = "\n Let me compute.<|assistant|> interpreter\n ```python\nprint(1)\n```";
        for (int trial = 0; trial < 50; trial++) {
            Outcome o = run(WEATHER, "", split(call, r), FinishReason.STOP);
            assertThat(o).isEqualTo(new Outcome("", "get_weather {\"city\":\"北京\"}", "tool_calls"));
            Outcome ci = run(WEATHER, "", split(textThenCode, r), FinishReason.STOP);
            assertThat(ci).isEqualTo(new Outcome("Let me compute.", "interpreter {\"code\":\"print(1)\\n\"}", "tool_calls"));
            Outcome prefilled = run(WEATHER, "get_weather\n", split(" ```python\ntool_call(city='x')\n```", r), FinishReason.STOP);
            assertThat(prefilled.call()).isEqualTo("get_weather {\"city\":\"x\"}");
        }
    }

    @Test
    void undeclaredOrBrokenCallsAreText() {
        var r = new Random(13);
        for (int trial = 0; trial < 20; trial++) {
            Outcome undeclared = run(WEATHER, "", split("search\n ```python\ntool_call(q='x')\n```", r), FinishReason.STOP);
            assertThat(undeclared).isEqualTo(new Outcome("search\n ```python\ntool_call(q='x')\n```", null, "stop"));
            Outcome cut = run(WEATHER, "", split("get_weather\n ```python\ntool_call(city='Bei", r), FinishReason.LENGTH);
            assertThat(cut).isEqualTo(new Outcome("get_weather\n ```python\ntool_call(city='Bei", null, "length"));
            Outcome afterText = run(WEATHER, "", split("\n Let me look.<|assistant|> search\n ```python\ntool_call(q='x')\n```", r), FinishReason.STOP);
            assertThat(afterText).as("text, then an undeclared call shown as text on a new line")
                    .isEqualTo(new Outcome("Let me look.\nsearch\n ```python\ntool_call(q='x')\n```", null, "stop"));
            Outcome text = run(WEATHER, "", split("\n Sunny today.", r), FinishReason.STOP);
            assertThat(text).isEqualTo(new Outcome("Sunny today.", null, "stop"));
        }
    }

    @Test
    void textBeforeACallStreamsBeforeTheReplyEnds() {
        var stream = new ReplyStream(WEATHER, "");
        assertThat(stream.push("\n Checking")).as("the first line decides: text").containsExactly(new ReplyStream.Delta.Content("Checking"));
        assertThat(stream.push(" now")).containsExactly(new ReplyStream.Delta.Content(" now"));
        assertThat(stream.push("<|assistant|>")).isEmpty();
    }
}
