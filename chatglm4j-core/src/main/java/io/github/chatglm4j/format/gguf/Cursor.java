package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads little-endian GGUF fields from a mapping, checking every length against the bytes left before touching
 * or allocating anything, so a hostile file yields a {@link ModelFormatException} and nothing else.
 */
final class Cursor {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment seg;
    /** Reads stop here: the end of the file, or earlier when the header budget ends first. */
    private final long limit;
    private final String limitReason;
    private long pos;

    Cursor(Path file, MemorySegment seg, long pos, long limit, String limitReason) {
        this.file = file;
        this.seg = seg;
        this.pos = pos;
        this.limit = Math.min(limit, seg.byteSize());
        this.limitReason = limit < seg.byteSize() ? limitReason : "the end of the file";
    }

    long pos() {
        return pos;
    }

    long remaining() {
        return limit - pos;
    }

    MemorySegment segment() {
        return seg;
    }

    ModelFormatException fail(String problem) {
        return new ModelFormatException(file, Quote.oneLine(problem));
    }

    /** Fails unless {@code n} more bytes can be read. */
    void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw fail("truncated: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes at offset " + pos
                    + ", but " + limitReason + " is " + remaining() + " bytes away");
        }
    }

    int u8(String what) {
        need(1, what);
        return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos++));
    }

    long u32(String what) {
        need(4, what);
        long v = Integer.toUnsignedLong(seg.get(INT, pos));
        pos += 4;
        return v;
    }

    /** The raw 64 bits (callers decide whether a negative long is a huge unsigned value or a signed one). */
    long u64(String what) {
        need(8, what);
        long v = seg.get(LONG, pos);
        pos += 8;
        return v;
    }

    /** An integer of one of the GGUF integer types, zero-extended for the unsigned ones. */
    long integer(GgufType type, String what) {
        need(type.width(), what);
        long v = GgufArray.integerAt(seg, type, pos);
        pos += type.width();
        return v;
    }

    /**
     * A u64 count of items that take at least {@code minBytes} each; fails before any loop or allocation if that
     * many items cannot fit in the bytes left.
     */
    long count(String what, long minBytes, long max) {
        long n = u64(what);
        if (n < 0 || n > max) {
            throw fail(what + " is " + Long.toUnsignedString(n) + ", more than the limit of " + max);
        }
        if (minBytes > 0 && n > remaining() / minBytes) {
            throw fail("truncated: " + what + " is " + n + " but " + limitReason + " is only " + remaining()
                    + " bytes away (corrupt count?)");
        }
        return n;
    }

    /** A GGUF string (u64 length + UTF-8), decoded; at most {@code maxBytes} long. */
    String string(String what, long maxBytes) {
        long len = stringLength(what, maxBytes);
        byte[] bytes = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        long bad = Utf8Check.firstInvalid(seg, pos, pos + len);
        if (bad >= 0) {
            throw fail(what + " is not valid UTF-8 (byte " + (bad - pos) + " of " + len + ")");
        }
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Checks a GGUF string and moves past it without decoding it. */
    void skipString(String what) {
        long len = stringLength(what, Long.MAX_VALUE);
        long bad = Utf8Check.firstInvalid(seg, pos, pos + len);
        if (bad >= 0) {
            throw fail(what + " is not valid UTF-8 (byte " + (bad - pos) + " of " + len + ")");
        }
        pos += len;
    }

    private long stringLength(String what, long maxBytes) {
        long len = u64("length of " + what);
        if (len < 0 || len > maxBytes) {
            throw fail(what + " is " + Long.toUnsignedString(len) + " bytes long, more than the limit of " + maxBytes);
        }
        need(len, what);
        return len;
    }

    void skip(long n, String what) {
        need(n, what);
        pos += n;
    }

    byte[] bytesFrom(long start) {
        return seg.asSlice(start, pos - start).toArray(ValueLayout.JAVA_BYTE);
    }
}
