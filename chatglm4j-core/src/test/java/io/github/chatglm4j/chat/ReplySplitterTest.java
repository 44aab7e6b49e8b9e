package io.github.chatglm4j.chat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming split agrees with the after-the-fact parse (the reference's process_response), however the text arrives. */
class ReplySplitterTest {
    /** Decoded replies as the model writes them (special tokens as text, the space decoding leaves after them). */
    static final String[] REPLIES = {
            "\n 你好👋！我是人工智能助手 ChatGLM3-6B，很高兴见到你。",
            "\n Hello  world! \n",
            "random_number_generator\n ```python\ntool_call(seed=42, range=(0, 100))\n```",
            "\n Let me compute.<|assistant|> interpreter\n ```python\nimport math\nprint(math.pi)\n```",
            "\n a < b <| c <|assist",
            "no newline at all",
            "get_weather\n ```python\ntool_call(city_name='北京')\n```<|assistant|>\n Done.",
            "\n first<|assistant|>\n second",
            "interpreter\n ```python\nx = 1\n",
            "\n\n\n",
            "",
    };

    /** Segments as (name, stripped body): name "" for text. */
    record Segment(String name, String body) {
    }

    static List<Segment> segments(List<ReplySplitter.Part> parts) {
        List<Segment> out = new ArrayList<>();
        String name = null;
        var body = new StringBuilder();
        boolean started = false;
        for (ReplySplitter.Part p : parts) {
            switch (p) {
                case ReplySplitter.Part.Call c -> {
                    if (started) {
                        out.add(new Segment(name, body.toString()));
                    }
                    name = c.name();
                    body.setLength(0);
                    started = true;
                }
                case ReplySplitter.Part.Text t -> {
                    if (started && t.text().equals("\n")) {   // a new text segment
                        out.add(new Segment(name, body.toString()));
                        name = "";
                        body.setLength(0);
                    } else {
                        if (!started) {
                            name = "";
                            started = true;
                        }
                        body.append(t.text());
                    }
                }
                case ReplySplitter.Part.Code c -> body.append(c.text());
            }
        }
        if (started) {
            out.add(new Segment(name, body.toString()));
        }
        return out;
    }

    static List<ReplySplitter.Part> split(String text, List<String> pieces) {
        var splitter = new ReplySplitter();
        List<ReplySplitter.Part> parts = new ArrayList<>();
        for (String p : pieces) {
            parts.addAll(splitter.push(p));
        }
        parts.addAll(splitter.finish());
        return parts;
    }

    static List<String> randomPieces(String text, Random r) {
        List<String> pieces = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + 1 + r.nextInt(6));
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
                end++;
            }
            pieces.add(text.substring(i, end));
            i = end;
        }
        return pieces;
    }

    @Test
    void segmentsEqualTheParsedHistoryEntriesInEverySplit() {
        var r = new Random(5);
        for (String reply : REPLIES) {
            List<Segment> parsed = ResponseParser.parse(reply, true).messages().stream()
                    .map(m -> new Segment(m.metadata(), m.content())).filter(s -> !(s.name().isEmpty() && s.body().isEmpty())).toList();
            for (int trial = 0; trial < 60; trial++) {
                List<Segment> streamed = segments(split(reply, randomPieces(reply, r))).stream()
                        .filter(s -> !(s.name().isEmpty() && s.body().isEmpty())).toList();
                assertThat(streamed).as("segments of %s", reply).isEqualTo(parsed);
            }
        }
    }

    @Test
    void textStreamsAsItComesWithTrailingWhitespaceHeld() {
        var splitter = new ReplySplitter();
        assertThat(splitter.push("\n Checking")).containsExactly(new ReplySplitter.Part.Text("Checking"));
        assertThat(splitter.push(" the ")).containsExactly(new ReplySplitter.Part.Text(" the"));
        assertThat(splitter.push("weather<|assis")).containsExactly(new ReplySplitter.Part.Text(" weather"));
        assertThat(splitter.push("tant|> get_weather\n")).containsExactly(new ReplySplitter.Part.Call("get_weather"));
        assertThat(splitter.inCall()).isTrue();
        assertThat(splitter.push(" ```python\n")).containsExactly(new ReplySplitter.Part.Code("```python"));
        assertThat(splitter.finish()).isEmpty();
    }

    @Test
    void aLongFirstLineWithoutNewlineIsTextBeforeTheReplyEnds() {
        var splitter = new ReplySplitter();
        String line = "x".repeat(ReplySplitter.MAX_METADATA + 1);
        assertThat(splitter.push(line)).containsExactly(new ReplySplitter.Part.Text(line));
        assertThat(splitter.inCall()).isFalse();
    }

    @Test
    void aPrefilledToolNameStartsTheCall() {
        var splitter = new ReplySplitter("get_weather\n");
        assertThat(splitter.inCall()).isTrue();
        assertThat(splitter.push(" ```python\ntool_call(city_name='x')\n```")).containsExactly(
                new ReplySplitter.Part.Call("get_weather"), new ReplySplitter.Part.Code("```python\ntool_call(city_name='x')\n```"));
    }
}
