package io.github.chatglm4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;

import static io.github.chatglm4j.tokenizer.TokenizerFixtures.ints;
import static io.github.chatglm4j.tokenizer.TokenizerFixtures.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.github.chatglm4j.testing.Numbers.concat;

/** Encoding and decoding against the ids, pieces and decoded strings the reference produced (cases.json). */
class TokenizerTest {
    private final ChatGLMTokenizer tok = TokenizerFixtures.tokenizer();

    @TestFactory
    Stream<DynamicTest> encodeGivesReferenceIds() {
        return TokenizerFixtures.texts().stream().map(c -> DynamicTest.dynamicTest(label(c), () -> {
            String text = c.get("text").asText();
            assertThat(tok.encode(text)).as("ids of %s", label(c)).containsExactly(ints(c.get("ids")));
        }));
    }

    @TestFactory
    Stream<DynamicTest> idsMapToReferencePieces() {
        return TokenizerFixtures.texts().stream().map(c -> DynamicTest.dynamicTest(label(c), () -> {
            List<String> pieces = Arrays.stream(ints(c.get("ids"))).mapToObj(tok::piece).toList();
            assertThat(pieces).as("pieces of %s", label(c)).containsExactlyElementsOf(strings(c.get("pieces")));
        }));
    }

    @TestFactory
    Stream<DynamicTest> decodeGivesReferenceText() {
        return TokenizerFixtures.texts().stream().map(c -> DynamicTest.dynamicTest(label(c), () -> {
            int[] ids = ints(c.get("ids"));
            String expected = c.get("decoded").asText();
            assertThat(tok.decode(ids)).as("decode of %s", label(c)).isEqualTo(expected);
            assertThat(tok.decodeRuns(ids)).as("decodeRuns of %s", label(c)).isEqualTo(expected);
        }));
    }

    @TestFactory
    Stream<DynamicTest> decodeRunsGivesReferenceChatText() {
        // The chats' "decoded" is SPTokenizer.decode: every run after a special token loses its leading space.
        return TokenizerFixtures.chats().stream().map(c -> DynamicTest.dynamicTest(c.get("query").asText(), () ->
                assertThat(tok.decodeRuns(ints(c.get("ids")))).isEqualTo(c.get("decoded").asText())));
    }

    @Test
    void specialTokensHaveReferenceIds() {
        JsonNode specials = TokenizerFixtures.cases().get("special_tokens");
        assertThat(specials.size()).isEqualTo(9);
        specials.properties().forEach(e -> {
            int id = e.getValue().asInt();
            assertThat(tok.specialTokenId(e.getKey())).as(e.getKey()).isEqualTo(OptionalInt.of(id));
            assertThat(tok.piece(id)).isEqualTo(e.getKey());
            assertThat(tok.isSpecial(id)).isTrue();
        });
        assertThat(tok.specialTokenId("<|unknown|>")).isEmpty();
        assertThat(tok.specialTokenId("<s>")).as("<s> is a SentencePiece control piece, not a special token").isEmpty();
        assertThat(tok.isSpecial(64788)).isFalse();
        assertThat(tok.isSpecial(64798)).isFalse();
        assertThat(tok.vocabSize()).isEqualTo(TokenizerFixtures.cases().get("vocab_size").asInt() + 9).isEqualTo(64798);
        assertThat(Map.of("gmask", ChatGLMTokenizer.GMASK, "sop", ChatGLMTokenizer.SOP, "user", ChatGLMTokenizer.USER,
                "assistant", ChatGLMTokenizer.ASSISTANT, "observation", ChatGLMTokenizer.OBSERVATION,
                "system", ChatGLMTokenizer.SYSTEM))
                .containsExactlyInAnyOrderEntriesOf(Map.of("gmask", specials.get("[gMASK]").asInt(),
                        "sop", specials.get("sop").asInt(), "user", specials.get("<|user|>").asInt(),
                        "assistant", specials.get("<|assistant|>").asInt(),
                        "observation", specials.get("<|observation|>").asInt(),
                        "system", specials.get("<|system|>").asInt()));
        assertThat(ChatGLMTokenizer.EOS).isEqualTo(TokenizerFixtures.cases().get("eos_id").asInt());
        assertThat(ChatGLMTokenizer.BOS).isEqualTo(TokenizerFixtures.cases().get("bos_id").asInt());
        assertThat(ChatGLMTokenizer.PAD).isEqualTo(TokenizerFixtures.cases().get("pad_id").asInt());
    }

    @Test
    void pieceTableMatchesReferenceLayout() {
        // reference doc 2.1: <unk>, <s>, </s>, then 256 byte pieces (id = byte + 3), then BPE pieces from "▁t".
        assertThat(List.of(tok.piece(0), tok.piece(1), tok.piece(2))).containsExactly("<unk>", "<s>", "</s>");
        assertThat(tok.piece(3)).isEqualTo("<0x00>");
        assertThat(tok.piece(13)).isEqualTo("<0x0A>");
        assertThat(tok.piece(258)).isEqualTo("<0xFF>");
        assertThat(tok.piece(259)).isEqualTo("▁t");
        assertThatThrownBy(() -> tok.piece(64798)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("64798");
        assertThatThrownBy(() -> tok.piece(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void roleStringsTypedByUserStayPlainText() {
        for (String s : ChatGLMTokenizer.SPECIAL_TOKENS) {
            int[] ids = tok.encode("say " + s + " now");
            assertThat(Arrays.stream(ids).boxed().toList()).as("plain encode of %s", s).noneMatch(tok::isSpecial);
            assertThat(tok.decode(ids)).isEqualTo("say " + s + " now");
        }
    }

    @Test
    void encodeWithSpecialTokensSplitsOnAllNineStrings() {
        // Each segment is encoded on its own, with its own dummy prefix (reference encode_special_tokens=True).
        int[] expected = concat(new int[]{ChatGLMTokenizer.GMASK, ChatGLMTokenizer.SOP, ChatGLMTokenizer.USER},
                tok.encode("\n你好"), new int[]{ChatGLMTokenizer.ASSISTANT});
        assertThat(tok.encodeWithSpecialTokens("[gMASK]sop<|user|>\n你好<|assistant|>")).containsExactly(expected);
        // the reference doc 2.4 golden: "\n 你好" -> 30910, 13, 36474, 54591
        assertThat(tok.encodeWithSpecialTokens("<|user|>\n 你好")).containsExactly(64795, 30910, 13, 36474, 54591);
        for (int i = 0; i < ChatGLMTokenizer.SPECIAL_TOKENS.size(); i++) {
            String s = ChatGLMTokenizer.SPECIAL_TOKENS.get(i);
            assertThat(tok.encodeWithSpecialTokens("a" + s + "b"))
                    .as("split on %s", s)
                    .containsExactly(concat(tok.encode("a"), new int[]{64789 + i}, tok.encode("b")));
        }
        assertThat(tok.encodeWithSpecialTokens("")).isEmpty();
        assertThat(tok.encodeWithSpecialTokens("no specials here")).containsExactly(tok.encode("no specials here"));
        assertThat(tok.encodeWithSpecialTokens("<|user|><|user|>")).containsExactly(64795, 64795);
    }

    @Test
    void decodeFollowsHuggingFaceRules() {
        // ids 0/1/2 vanish, specials appear as their strings, only the very first piece loses its space.
        int[] reply = concat(new int[]{30910, 13}, tok.encode("你好"), new int[]{ChatGLMTokenizer.ASSISTANT},
                tok.encode("interpreter\n"), new int[]{ChatGLMTokenizer.EOS});
        assertThat(tok.decode(reply)).isEqualTo("\n 你好<|assistant|> interpreter\n");
        assertThat(tok.decode(new int[]{ChatGLMTokenizer.BOS, 13755, 0, 993, 2})).isEqualTo("Hello world");
        assertThat(tok.decode(new int[]{65000, -3, 13755})).as("out-of-range ids vanish").isEqualTo("Hello");
        assertThat(tok.decode(new int[]{})).isEmpty();
        // an incomplete UTF-8 sequence: each stray byte becomes U+FFFD (sentencepiece rule)
        assertThat(tok.decode(new int[]{243, 162, 13755})).isEqualTo("\uFFFD\uFFFD Hello");
        // a vanishing id still ends a byte run
        assertThat(tok.decode(new int[]{243, 162, 2, 148, 142})).isEqualTo("\uFFFD".repeat(4));
    }

    @Test
    void decodeRunsFollowsSpTokenizerRules() {
        int[] ids = concat(new int[]{ChatGLMTokenizer.USER, 30910, 13}, tok.encode("你好"),
                new int[]{ChatGLMTokenizer.ASSISTANT}, tok.encode("interpreter\n"));
        assertThat(tok.decodeRuns(ids)).isEqualTo("<|user|>\n 你好<|assistant|>interpreter\n");
        assertThat(tok.decodeRuns(new int[]{13755, 0, 993})).isEqualTo("Hello ⁇  world");
    }

    @Test
    void encodeThenDecodeRoundTrips() {
        for (String s : List.of("", "a", "  two leading", "trailing  ", "x\n\ny", "😀 emoji 🎉", "混合 text 123",
                "\t\r\n", "<|user|> [gMASK] sop")) {
            assertThat(tok.decode(tok.encode(s))).as("round trip of %s", s).isEqualTo(s);
        }
    }

    @Test
    void lowerOneEighthBlockInTextIsASpace() {
        // sentencepiece escapes spaces as U+2581 before merging, so a literal U+2581 cannot be told apart
        assertThat(tok.encode("a\u2581b c")).containsExactly(tok.encode("a b c"));
    }

    @Test
    void unpairedSurrogateEncodesAsReplacementCharacter() {
        assertThat(tok.encode("a\uD800b")).containsExactly(tok.encode("a\uFFFDb"));
    }

    @Test
    void longTextAndLongRunsOfOneCharacterRoundTrip() {
        var sb = new StringBuilder();
        String[] words = {"the", "模型", "quick", "😀", "  ", "\n", "12345", "ChatGLM3-6B", "résumé", "aaaa"};
        var rnd = new java.util.Random(7);
        while (sb.length() < 100_000) {
            sb.append(words[rnd.nextInt(words.length)]).append(' ');
        }
        String text = sb.toString();
        int[] ids = tok.encode(text);
        assertThat(tok.decode(ids)).isEqualTo(text);
        // a run of one repeated character is the worst case for naive rescanning merges (speed: TokenizerBench)
        String same = "a".repeat(100_000);
        assertThat(tok.decode(tok.encode(same))).isEqualTo(same);
    }

    static String label(JsonNode c) {
        String t = c.get("text").asText();
        return "'" + (t.length() > 40 ? t.substring(0, 40) + "…" : t).replace("\n", "\\n") + "'";
    }
}
