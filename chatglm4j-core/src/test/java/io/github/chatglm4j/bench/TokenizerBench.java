package io.github.chatglm4j.bench;

import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.Locale;
import java.util.Random;

/** Encoding speed of 100 KB of mixed text and of 100,000 repeated characters (the worst case for merge rescans). */
public final class TokenizerBench {
    public static void main(String[] args) throws Exception {
        ChatGLMTokenizer tok = ChatGLMTokenizer.load(Fixtures.root().resolve("tokenizer/tokenizer.model"));
        var sb = new StringBuilder();
        String[] words = {"the", "模型", "quick", "😀", "  ", "\n", "12345", "ChatGLM3-6B", "résumé", "aaaa"};
        var rnd = new Random(7);
        while (sb.length() < 100_000) {
            sb.append(words[rnd.nextInt(words.length)]).append(' ');
        }
        String[] names = {"100 KB mixed text", "100,000 x 'a'"};
        String[] texts = {sb.toString(), "a".repeat(100_000)};
        System.out.println("cpu: " + HotPathBench.cpuFlags());
        for (int i = 0; i < texts.length; i++) {
            for (int warm = 0; warm < 5; warm++) {
                tok.encode(texts[i]);
            }
            long t0 = System.nanoTime();
            int runs = 10;
            int tokens = 0;
            for (int r = 0; r < runs; r++) {
                tokens = tok.encode(texts[i]).length;
            }
            double ms = (System.nanoTime() - t0) / 1e6 / runs;
            System.out.printf(Locale.ROOT, "%s: %d tokens in %.1f ms (%.1f MB/s)%n", names[i], tokens, ms,
                    texts[i].length() / 1e3 / ms);
        }
    }
}
