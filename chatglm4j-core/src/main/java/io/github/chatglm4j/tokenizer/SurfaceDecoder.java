package io.github.chatglm4j.tokenizer;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Whole-sequence decoding, written like sentencepiece's {@code Decode} (0.1.97): before each non-byte token the
 * pending byte run is decoded, and a piece loses its leading space only while the text written so far is empty.
 */
final class SurfaceDecoder {
    private SurfaceDecoder() {
    }

    /**
     * @param specialsStartRuns true for the reference {@code SPTokenizer.decode}, which decodes the ids between
     *                          special tokens as separate runs (each may lose a leading space); false for one
     *                          {@code DecodePieces} call over everything (HF {@code tokenizer.decode})
     */
    static String decode(int[] ids, IntFunction<Surface> surfaces, boolean specialsStartRuns) {
        var out = new StringBuilder();
        byte[] run = new byte[16];
        int runLength = 0;
        int runStart = 0; // length of out where the current run of text began
        for (int id : ids) {
            Surface s = surfaces.apply(id);
            if (s instanceof Surface.Byte(int value)) {
                if (runLength == run.length) {
                    run = Arrays.copyOf(run, runLength * 2);
                }
                run[runLength++] = (byte) value;
                continue;
            }
            Utf8.decodeRun(run, 0, runLength, out);
            runLength = 0;
            switch (s) {
                case Surface.Special(String text) -> {
                    out.append(text);
                    if (specialsStartRuns) {
                        runStart = out.length();
                    }
                }
                case Surface.Literal(String text) -> out.append(text);
                case Surface.Piece(String text, String textAtStart) ->
                        out.append(out.length() == runStart ? textAtStart : text);
                case Surface.Byte b -> throw new AssertionError(b);
            }
        }
        Utf8.decodeRun(run, 0, runLength, out);
        return out.toString();
    }
}
