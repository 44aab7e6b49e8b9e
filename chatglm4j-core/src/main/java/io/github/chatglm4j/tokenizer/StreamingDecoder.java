package io.github.chatglm4j.tokenizer;

import java.util.function.IntFunction;

/**
 * Decodes generated ids one at a time. {@link #push} returns only finished text: bytes of a UTF-8 character split
 * over several byte pieces are held back until the character is complete, so no half character and no spurious
 * U+FFFD is ever shown. The concatenation of all {@code push} results and the final {@link #flush} equals
 * {@link ChatGLMTokenizer#decode} of the same ids. Not thread-safe.
 */
public final class StreamingDecoder {
    private final IntFunction<Surface> surfaces;
    private final byte[] pending = new byte[4];
    private int pendingLength;
    private boolean nothingWritten = true;

    StreamingDecoder(IntFunction<Surface> surfaces) {
        this.surfaces = surfaces;
    }

    /** Feeds one id; returns the text it completes (possibly empty). */
    public String push(int id) {
        var out = new StringBuilder();
        Surface s = surfaces.apply(id);
        if (s instanceof Surface.Byte(int value)) {
            pending[pendingLength++] = (byte) value;
            drain(out, false);
        } else {
            drain(out, true);
            switch (s) {
                case Surface.Special(String text) -> out.append(text);
                case Surface.Literal(String text) -> out.append(text);
                case Surface.Piece(String text, String textAtStart) ->
                        out.append(nothingWritten && out.isEmpty() ? textAtStart : text);
                case Surface.Byte b -> throw new AssertionError(b);
            }
        }
        if (!out.isEmpty()) {
            nothingWritten = false;
        }
        return out.toString();
    }

    /** Ends the sequence: returns held-back bytes (an incomplete character as U+FFFD) and starts over. */
    public String flush() {
        var out = new StringBuilder();
        drain(out, true);
        nothingWritten = true;
        return out.toString();
    }

    /** Decodes pending bytes from the front; unless the run has ended, stops at a character still incomplete. */
    private void drain(StringBuilder out, boolean runEnded) {
        int off = 0;
        while (off < pendingLength) {
            if (!runEnded && pendingLength - off < Utf8.expectedLength(pending[off] & 0xFF)) {
                break;
            }
            off += Utf8.decodeOne(pending, off, pendingLength, out);
        }
        System.arraycopy(pending, off, pending, 0, pendingLength - off);
        pendingLength -= off;
    }
}
