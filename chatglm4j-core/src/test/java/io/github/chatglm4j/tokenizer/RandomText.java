package io.github.chatglm4j.tokenizer;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Seeded random text that exercises the tokenizer: mixed scripts, emoji, digits, whitespace runs, role strings.
 * Each try gets its own generator from {@link #check}, so a failure names the one seed that reproduces it.
 */
final class RandomText {
    /** Base seed of all tries; {@code -Dchatglm.test.seed=N} explores other inputs. */
    static final long BASE_SEED = Long.getLong("chatglm.test.seed", 0x5EED_C6A7_4A11L);

    private static final String PUNCTUATION = ".,!?:;()[]{}<>|\"'`~@#$%^&*-_=+/\\";
    private static final List<String> ODD_CHARS = List.of("\u200b", "\u0000", "\u007f", "\u2028", "\ufeff", "\ufffd");
    private static final int[] ATOM_WEIGHTS = {6, 3, 2, 2, 2, 4, 2, 1, 1, 1, 1, 1, 1, 1};

    private final SplittableRandom rnd;

    private RandomText(SplittableRandom rnd) {
        this.rnd = rnd;
    }

    /** A generator seeded exactly as the try that reported {@code seed}, to reproduce a failure. */
    static RandomText withSeed(long seed) {
        return new RandomText(new SplittableRandom(seed));
    }

    /**
     * Runs {@code property} on {@code tries} fresh generators; a failure is reported with its seed. The name keeps
     * the inputs of different properties apart.
     */
    static void check(String name, int tries, Consumer<RandomText> property) {
        long base = new SplittableRandom(BASE_SEED ^ name.hashCode()).nextLong();
        for (int i = 0; i < tries; i++) {
            long seed = base + i;
            try {
                property.accept(withSeed(seed));
            } catch (AssertionError e) {
                throw new AssertionError("%s, try %d of %d (RandomText.withSeed(%dL)): %s"
                        .formatted(name, i, tries, seed, e.getMessage()), e);
            }
        }
    }

    /** 0 to 40 atoms joined. */
    String mixedText() {
        return concat(between(0, 40), i -> atom());
    }

    /** 5 to 20 {@link #mixedText()}s joined. */
    String longText() {
        return concat(between(5, 20), i -> mixedText());
    }

    /** Uniform in [lo, hi], both inclusive. */
    int between(int lo, int hi) {
        return rnd.nextInt(lo, hi + 1);
    }

    /** An index into {@code weights}, chosen with probability proportional to its weight. */
    int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int r = rnd.nextInt(total);
        for (int i = 0; ; i++) {
            r -= weights[i];
            if (r < 0) {
                return i;
            }
        }
    }

    <T> T oneOf(List<T> choices) {
        return choices.get(rnd.nextInt(choices.size()));
    }

    private String atom() {
        return switch (weighted(ATOM_WEIGHTS)) {
            case 0 -> chars(1, 8, () -> rnd.nextBoolean() ? (char) between('a', 'z') : (char) between('A', 'Z'));
            case 1 -> " ".repeat(between(1, 5));
            case 2 -> chars(1, 6, () -> (char) between('0', '9'));
            case 3 -> chars(1, 3, () -> "\n\t\r".charAt(rnd.nextInt(3)));
            case 4 -> chars(1, 3, () -> PUNCTUATION.charAt(rnd.nextInt(PUNCTUATION.length())));
            case 5 -> charRange(1, 6, '\u4e00', '\u9fff');
            case 6 -> codePoints(0x1F300, 0x1FAFF);
            case 7 -> codePoints(0x10000, 0x10FFFF);
            case 8 -> charRange(1, 5, '\u0400', '\u04ff');
            case 9 -> charRange(1, 4, '\u00a0', '\u024f');
            case 10 -> charRange(1, 4, '\uac00', '\ud7a3');
            // full-width ASCII plus the ideographic space, each char equally likely
            case 11 -> chars(1, 4, () -> {
                int c = between('\uff01', '\uff5e' + 1);
                return c > '\uff5e' ? '\u3000' : (char) c;
            });
            case 12 -> oneOf(ChatGLMTokenizer.SPECIAL_TOKENS);
            default -> oneOf(ODD_CHARS);
        };
    }

    private String charRange(int minLength, int maxLength, char from, char to) {
        return chars(minLength, maxLength, () -> (char) between(from, to));
    }

    private String chars(int minLength, int maxLength, CharSupplier c) {
        int n = between(minLength, maxLength);
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(c.next());
        }
        return sb.toString();
    }

    /** 1 to 3 code points from [from, to]. */
    private String codePoints(int from, int to) {
        int n = between(1, 3);
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.appendCodePoint(between(from, to));
        }
        return sb.toString();
    }

    private static String concat(int n, IntFunction<String> part) {
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(part.apply(i));
        }
        return sb.toString();
    }

    @FunctionalInterface
    private interface CharSupplier {
        char next();
    }

    /** The text with control characters escaped, quoted, for assertion messages. */
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
