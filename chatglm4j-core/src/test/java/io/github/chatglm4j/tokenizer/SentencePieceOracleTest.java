package io.github.chatglm4j.tokenizer;

import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compares {@link ChatGLMTokenizer#encode} with the native SentencePiece library (through DJL) on the same
 * tokenizer.model. DJL's native decode mangles non-ASCII output, so only its encoder serves as the oracle.
 */
class SentencePieceOracleTest {
    private static SpTokenizer oracleTokenizer;
    private static SpProcessor oracle;

    @BeforeContainer
    static void loadOracle() throws IOException {
        oracleTokenizer = new SpTokenizer(TokenizerFixtures.modelFile());
        oracle = oracleTokenizer.getProcessor();
    }

    @AfterContainer
    static void closeOracle() {
        oracleTokenizer.close();
    }

    @Property(tries = 800)
    void encodeMatchesNativeSentencePiece(@ForAll("texts") String text) {
        int[] expected = oracle.encode(text);
        int[] actual = TokenizerFixtures.tokenizer().encode(text);
        assertThat(actual).as("ids of %s (native: %s)", escape(text), Arrays.toString(expected)).containsExactly(expected);
    }

    @Property(tries = 100)
    void encodeMatchesNativeSentencePieceOnLongTexts(@ForAll("longTexts") String text) {
        assertThat(TokenizerFixtures.tokenizer().encode(text)).containsExactly(oracle.encode(text));
    }

    @Provide
    Arbitrary<String> texts() {
        return TextArbitraries.mixedText();
    }

    @Provide
    Arbitrary<String> longTexts() {
        return TextArbitraries.mixedText().list().ofMinSize(5).ofMaxSize(20).map(l -> String.join("", l));
    }

    static String escape(String s) {
        var sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('"').toString();
    }
}
