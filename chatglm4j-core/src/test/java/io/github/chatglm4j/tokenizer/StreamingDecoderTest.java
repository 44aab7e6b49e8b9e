package io.github.chatglm4j.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming decoder must add up to {@link ChatGLMTokenizer#decode} and never show a half character. */
class StreamingDecoderTest {
    private final ChatGLMTokenizer tok = TokenizerFixtures.tokenizer();

    @Test
    void pushesAndFlushAddUpToDecode() {
        RandomText.check("stream ids", 2000, random -> {
            int[] ids = idSequence(random);
            StreamingDecoder decoder = tok.newStreamingDecoder();
            var streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(decoder.push(id));
            }
            streamed.append(decoder.flush());
            assertThat(streamed.toString()).as("streamed text of %s", Arrays.toString(ids)).isEqualTo(tok.decode(ids));
        });
    }

    @Test
    void realTextStreamsWithoutReplacementCharacters() {
        RandomText.check("stream text", 1000, random -> {
            String text = textWithoutMetaSymbols(random);
            int[] ids = tok.encode(text);
            StreamingDecoder decoder = tok.newStreamingDecoder();
            var pushes = new ArrayList<String>();
            for (int id : ids) {
                pushes.add(decoder.push(id));
            }
            String tail = decoder.flush();
            for (String p : pushes) {
                assertThat(p).as("a push while streaming %s", RandomText.escape(text)).doesNotContain("\uFFFD");
                assertThat(p.isEmpty() || (!Character.isLowSurrogate(p.charAt(0))
                        && !Character.isHighSurrogate(p.charAt(p.length() - 1))))
                        .as("push %s splits a surrogate pair", p).isTrue();
            }
            assertThat(tail).as("nothing is held back after a complete text").isEmpty();
            // (not always the text itself: like sentencepiece 0.1.97, " a" = [▁, ▁a] decodes to "a")
            assertThat(String.join("", pushes)).as("pushes of %s", RandomText.escape(text)).isEqualTo(tok.decode(ids));
        });
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

    /** Up to 30 ids biased towards byte pieces, so multi-byte characters get split across pushes. */
    private static int[] idSequence(RandomText random) {
        int[] ids = new int[random.between(0, 30)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = switch (random.weighted(8, 3, 4, 4, 1, 1, 1, 1, 1)) {
                case 0 -> random.between(3, 258);               // byte pieces
                case 1 -> random.between(0xC2 + 3, 0xF4 + 3);   // lead bytes
                case 2 -> random.between(0x80 + 3, 0xBF + 3);   // continuation bytes
                case 3 -> random.between(259, 64788);           // pieces
                case 4 -> random.oneOf(List.of(30910, 265, 2951)); // ▁, ▁▁, ▁▁▁
                case 5 -> random.between(0, 2);                 // <unk> <s> </s>
                case 6 -> random.between(64789, 64797);         // specials
                case 7 -> random.between(64798, 65100);         // padding rows
                default -> random.between(-5, -1);
            };
        }
        return ids;
    }

    /** Mixed text without ▁ (it decodes as a space) or U+FFFD (the property looks for it in every push). */
    private static String textWithoutMetaSymbols(RandomText random) {
        String s;
        do {
            s = random.mixedText();
        } while (s.contains("\u2581") || s.contains("\uFFFD"));
        return s;
    }
}
