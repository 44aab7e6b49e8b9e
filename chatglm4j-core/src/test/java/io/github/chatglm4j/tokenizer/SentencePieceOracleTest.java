package io.github.chatglm4j.tokenizer;

import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    @BeforeAll
    static void loadOracle() throws IOException {
        oracleTokenizer = new SpTokenizer(TokenizerFixtures.modelFile());
        oracle = oracleTokenizer.getProcessor();
    }

    @AfterAll
    static void closeOracle() {
        oracleTokenizer.close();
    }

    @Test
    void encodeMatchesNativeSentencePiece() {
        RandomText.check("encode", 800, random -> assertEncodesLikeOracle(random.mixedText()));
    }

    @Test
    void encodeMatchesNativeSentencePieceOnLongTexts() {
        RandomText.check("encode long", 100, random -> assertEncodesLikeOracle(random.longText()));
    }

    private static void assertEncodesLikeOracle(String text) {
        int[] expected = oracle.encode(text);
        int[] actual = TokenizerFixtures.tokenizer().encode(text);
        assertThat(actual).as("ids of %s (native: %s)", RandomText.escape(text), Arrays.toString(expected))
                .containsExactly(expected);
    }
}
