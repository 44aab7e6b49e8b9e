package io.github.chatglm4j.tokenizer;

/**
 * What one token contributes to decoded text, following sentencepiece's {@code Decode}: byte pieces are collected
 * into runs decoded as UTF-8, pieces have U+2581 turned into spaces and lose a leading one while nothing has been
 * written yet, and everything else is fixed text.
 */
sealed interface Surface {

    /** Contributes nothing (control pieces, ids the reference maps to ""), but still ends a byte run. */
    Literal EMPTY = new Literal("");

    /** A byte piece {@code <0xXX>}. */
    record Byte(int value) implements Surface {
    }

    /** Fixed text: unknown piece strings passed through verbatim, the unknown surface. */
    record Literal(String text) implements Surface {
    }

    /** A special token's string; in run-wise decoding it also starts a new run. */
    record Special(String text) implements Surface {
    }

    /**
     * A vocabulary piece.
     *
     * @param text        the piece with every U+2581 as a space
     * @param textAtStart the same without the first space, for a piece starting with U+2581 at the start of text
     */
    record Piece(String text, String textAtStart) implements Surface {

        static Piece of(String piece, boolean stripLeading) {
            String text = piece.replace(SentencePieceBpe.SPACE_SYMBOL, ' ');
            String atStart = stripLeading && !piece.isEmpty() && piece.charAt(0) == SentencePieceBpe.SPACE_SYMBOL
                    ? text.substring(1) : text;
            return new Piece(text, atStart);
        }
    }
}
