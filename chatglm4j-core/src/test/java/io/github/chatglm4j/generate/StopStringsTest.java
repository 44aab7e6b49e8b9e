package io.github.chatglm4j.generate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Stop strings found across piece boundaries: the output equals cutting the whole text at the first match. */
class StopStringsTest {

    @Test
    void randomTextsAndSplitsMatchTheWholeTextOracle() {
        var r = new Random(99);
        String alphabet = "abc\n北";
        for (int trial = 0; trial < 2000; trial++) {
            var text = new StringBuilder();
            for (int i = r.nextInt(30); i > 0; i--) {
                text.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            List<String> stops = List.of(randomStop(r, alphabet), randomStop(r, alphabet));
            int cut = -1;
            for (String s : stops) {
                int at = text.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) {
                    cut = at;
                }
            }
            String expected = cut < 0 ? text.toString() : text.substring(0, cut);

            var scanner = new StopStrings(stops);
            var out = new StringBuilder();
            int i = 0;
            while (i < text.length()) {
                int end = Math.min(text.length(), i + 1 + r.nextInt(4));
                out.append(scanner.push(text.substring(i, end)));
                i = end;
            }
            if (!scanner.stopped()) {
                out.append(scanner.flush());
            }
            assertThat(out.toString()).as("text %s, stops %s", text, stops).isEqualTo(expected);
            assertThat(scanner.stopped()).isEqualTo(cut >= 0);
        }
    }

    private static String randomStop(Random r, String alphabet) {
        var sb = new StringBuilder();
        for (int i = 1 + r.nextInt(3); i > 0; i--) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
