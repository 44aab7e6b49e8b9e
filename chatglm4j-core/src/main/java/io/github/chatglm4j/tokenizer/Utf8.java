package io.github.chatglm4j.tokenizer;

/**
 * UTF-8 decoding of byte-piece runs with SentencePiece's rules: characters are taken greedily from the front, and a
 * byte that does not start a complete, shortest-form, non-surrogate character becomes one U+FFFD and is consumed
 * alone. (Java's own decoder replaces maximal ill-formed subsequences instead, which gives fewer U+FFFD.)
 */
final class Utf8 {
    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    /** Number of bytes the character starting with {@code lead} needs; 1 for ASCII and for bytes that cannot lead. */
    static int expectedLength(int lead) {
        if (lead < 0x80) {
            return 1;
        } else if ((lead & 0xE0) == 0xC0) {
            return 2;
        } else if ((lead & 0xF0) == 0xE0) {
            return 3;
        } else if ((lead & 0xF8) == 0xF0) {
            return 4;
        }
        return 1;
    }

    /**
     * Decodes one character from {@code b[off..end)} and appends it (or U+FFFD) to {@code out}.
     *
     * @return the number of bytes consumed (1 for an invalid byte)
     */
    static int decodeOne(byte[] b, int off, int end, StringBuilder out) {
        int b0 = b[off] & 0xFF;
        int len = end - off;
        int need = expectedLength(b0);
        if (need == 1) {
            out.append(b0 < 0x80 ? (char) b0 : REPLACEMENT);
            return 1;
        }
        if (len < need) {
            out.append(REPLACEMENT);
            return 1;
        }
        int cp = b0 & (0x7F >> need);
        for (int i = 1; i < need; i++) {
            int t = b[off + i] & 0xFF;
            if ((t & 0xC0) != 0x80) {
                out.append(REPLACEMENT);
                return 1;
            }
            cp = (cp << 6) | (t & 0x3F);
        }
        int min = switch (need) {
            case 2 -> 0x80;
            case 3 -> 0x800;
            default -> 0x10000;
        };
        if (cp < min || (cp >= 0xD800 && cp < 0xE000) || cp > 0x10FFFF) {
            out.append(REPLACEMENT);
            return 1;
        }
        out.appendCodePoint(cp);
        return need;
    }

    /** Decodes a whole byte run (a run of byte pieces between other pieces). */
    static void decodeRun(byte[] b, int off, int end, StringBuilder out) {
        while (off < end) {
            off += decodeOne(b, off, end, out);
        }
    }
}
