package io.github.chatglm4j.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming decoder must add up to {@link ChatGLMTokenizer#decode} and never show a half character. */
class StreamingDecoderTest {
    private final ChatGLMTokenizer tok = TokenizerFixtures.tokenizer();

    @Property(tries = 2000)
    void pushesAndFlushAddUpToDecode(@ForAll("idSequences") List<Integer> ids) {
        int[] array = ids.stream().mapToInt(Integer::intValue).toArray();
        StreamingDecoder decoder = tok.newStreamingDecoder();
        var streamed = new StringBuilder();
        for (int id : array) {
            streamed.append(decoder.push(id));
        }
        streamed.append(decoder.flush());
        assertThat(streamed.toString()).as("streamed text of %s", ids).isEqualTo(tok.decode(array));
    }

    @Property(tries = 1000)
    void realTextStreamsWithoutReplacementCharacters(@ForAll("texts") String text) {
        int[] ids = tok.encode(text);
        StreamingDecoder decoder = tok.newStreamingDecoder();
        var pushes = new ArrayList<String>();
        for (int id : ids) {
            pushes.add(decoder.push(id));
        }
        String tail = decoder.flush();
        for (String p : pushes) {
            assertThat(p).as("a push while streaming %s", SentencePieceOracleTest.escape(text))
                    .doesNotContain("\uFFFD");
            assertThat(p.isEmpty() || (!Character.isLowSurrogate(p.charAt(0))
                    && !Character.isHighSurrogate(p.charAt(p.length() - 1))))
                    .as("push %s splits a surrogate pair", p).isTrue();
        }
        assertThat(tail).as("nothing is held back after a complete text").isEmpty();
        // (not always the text itself: like sentencepiece 0.1.97, " a" = [▁, ▁a] decodes to "a")
        assertThat(String.join("", pushes)).isEqualTo(tok.decode(ids));
    }

    @Test
    void holdsBackSplitEmojiUntilComplete() {
        // 👋 is byte-fallback F0 9F 91 8B (ids 243 162 148 142) in the reference ids of "你好👋！"
        StreamingDecoder d = tok.newStreamingDecoder();
        assertThat(d.push(36474)).isEqualTo("你");
        assertThat(d.push(243)).isEmpty();
        assertThat(d.push(162)).isEmpty();
        assertThat(d.push(148)).isEmpty();
        assertThat(d.push(142)).isEqualTo("👋");
        assertThat(d.push(31404)).isEqualTo("！");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void flushTurnsIncompleteCharacterIntoReplacementAndStartsOver() {
        StreamingDecoder d = tok.newStreamingDecoder();
        assertThat(d.push(243)).isEmpty();
        assertThat(d.push(162)).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD\uFFFD");
        assertThat(d.push(13755)).as("a fresh sequence drops the dummy-prefix space again").isEqualTo("Hello");
    }

    @Test
    void firstPieceLosesItsSpaceEvenAfterVanishingIds() {
        StreamingDecoder d = tok.newStreamingDecoder();
        assertThat(d.push(ChatGLMTokenizer.BOS)).isEmpty();
        assertThat(d.push(13755)).isEqualTo("Hello");
        assertThat(d.push(993)).isEqualTo(" world");
        assertThat(d.push(ChatGLMTokenizer.ASSISTANT)).isEqualTo("<|assistant|>");
        assertThat(d.push(993)).isEqualTo(" world");
    }

    @Provide
    Arbitrary<List<Integer>> idSequences() {
        Arbitrary<Integer> id = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.integers().between(3, 258)),        // byte pieces
                Tuple.of(3, Arbitraries.integers().between(0xC2 + 3, 0xF4 + 3)), // lead bytes
                Tuple.of(4, Arbitraries.integers().between(0x80 + 3, 0xBF + 3)), // continuation bytes
                Tuple.of(4, Arbitraries.integers().between(259, 64788)),    // pieces
                Tuple.of(1, Arbitraries.of(30910, 265, 2951)),              // ▁, ▁▁, ▁▁▁
                Tuple.of(1, Arbitraries.integers().between(0, 2)),          // <unk> <s> </s>
                Tuple.of(1, Arbitraries.integers().between(64789, 64797)),  // specials
                Tuple.of(1, Arbitraries.integers().between(64798, 65100)),  // padding rows
                Tuple.of(1, Arbitraries.integers().between(-5, -1)));
        return id.list().ofMaxSize(30);
    }

    @Provide
    Arbitrary<String> texts() {
        return TextArbitraries.mixedText().filter(s -> !s.contains("\u2581") && !s.contains("\uFFFD"));
    }
}
