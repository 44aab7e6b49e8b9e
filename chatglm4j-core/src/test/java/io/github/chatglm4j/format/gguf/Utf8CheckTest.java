package io.github.chatglm4j.format.gguf;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The UTF-8 check agrees with the JDK's strict decoder on which byte strings are well-formed. */
class Utf8CheckTest {

    private static boolean jdkAccepts(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void agreesWithTheJdkDecoderOnRandomByteStrings() {
        var random = new Random(20240601);
        // bytes drawn mostly from the interesting ranges: ASCII, continuation bytes and every kind of lead byte
        int[] pool = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF};
        int valid = 0;
        for (int c = 0; c < 200_000; c++) {
            byte[] b = new byte[random.nextInt(6)];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt(256) : pool[random.nextInt(pool.length)]);
            }
            boolean ours = Utf8Check.firstInvalid(MemorySegment.ofArray(b), 0, b.length) < 0;
            assertThat(ours).as("case %d: %s", c, java.util.HexFormat.of().formatHex(b)).isEqualTo(jdkAccepts(b));
            valid += ours ? 1 : 0;
        }
        assertThat(valid).as("the sample holds well-formed strings too").isGreaterThan(10_000);
    }
}
