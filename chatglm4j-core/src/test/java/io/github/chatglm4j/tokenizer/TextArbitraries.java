package io.github.chatglm4j.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/** Random text that exercises the tokenizer: mixed scripts, emoji, digits, whitespace runs, role strings. */
final class TextArbitraries {
    private TextArbitraries() {
    }

    static Arbitrary<String> mixedText() {
        Arbitrary<String> atom = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(8)),
                net.jqwik.api.Tuple.of(3, Arbitraries.strings().withChars(" ").ofMinLength(1).ofMaxLength(5)),
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(6)),
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().withChars("\n\t\r").ofMinLength(1).ofMaxLength(3)),
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().withChars(".,!?:;()[]{}<>|\"'`~@#$%^&*-_=+/\\").ofMinLength(1).ofMaxLength(3)),
                net.jqwik.api.Tuple.of(4, Arbitraries.strings().withCharRange('\u4e00', '\u9fff').ofMinLength(1).ofMaxLength(6)),
                net.jqwik.api.Tuple.of(2, codePoints(0x1F300, 0x1FAFF)),
                net.jqwik.api.Tuple.of(1, codePoints(0x10000, 0x10FFFF)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange('\u0400', '\u04ff').ofMinLength(1).ofMaxLength(5)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange('\u00a0', '\u024f').ofMinLength(1).ofMaxLength(4)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange('\uac00', '\ud7a3').ofMinLength(1).ofMaxLength(4)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange('\uff01', '\uff5e').withChars('\u3000').ofMinLength(1).ofMaxLength(4)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(ChatGLMTokenizer.SPECIAL_TOKENS)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("\u200b", "\u0000", "\u007f", "\u2028", "\ufeff", "\ufffd")));
        return atom.list().ofMaxSize(40).map(parts -> String.join("", parts));
    }

    private static Arbitrary<String> codePoints(int from, int to) {
        return Arbitraries.integers().between(from, to).list().ofMinSize(1).ofMaxSize(3)
                .map(cps -> {
                    var sb = new StringBuilder();
                    cps.forEach(sb::appendCodePoint);
                    return sb.toString();
                });
    }
}
