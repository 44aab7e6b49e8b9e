package io.github.chatglm4j.tokenizer;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Reads the protobuf wire format from a byte range: just enough to walk the messages of a SentencePiece model
 * without a protobuf dependency. Every read checks bounds and throws {@link ProtoFormatException} on malformed or
 * truncated input instead of running past the end.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int START_GROUP = 3;
    static final int END_GROUP = 4;
    static final int FIXED32 = 5;

    /** Nesting limit for groups, as protobuf itself bounds recursion. */
    private static final int MAX_GROUP_DEPTH = 100;

    private final byte[] buf;
    private int pos;
    private final int limit;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int from, int to) {
        this.buf = buf;
        this.pos = from;
        this.limit = to;
    }

    boolean hasMore() {
        return pos < limit;
    }

    int position() {
        return pos;
    }

    /** Reads a field key; returns it whole (field number = key >>> 3, wire type = key & 7). */
    int readTag() throws ProtoFormatException {
        long key = readVarint();
        if (key >>> 32 != 0 || (key >>> 3) == 0) {
            throw new ProtoFormatException("invalid field key " + key + " at byte " + pos);
        }
        return (int) key;
    }

    long readVarint() throws ProtoFormatException {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw truncated("varint");
            }
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw new ProtoFormatException("varint longer than 10 bytes at byte " + pos);
    }

    int readFixed32() throws ProtoFormatException {
        require(4, "fixed32");
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    float readFloat() throws ProtoFormatException {
        return Float.intBitsToFloat(readFixed32());
    }

    boolean readBool() throws ProtoFormatException {
        return readVarint() != 0;
    }

    /** An int32/enum field: protobuf sign-extends negatives to 10-byte varints, so the low 32 bits are the value. */
    int readInt32() throws ProtoFormatException {
        return (int) readVarint();
    }

    /** Returns a reader over the next length-delimited field's bytes and skips past them. */
    ProtoReader readMessage() throws ProtoFormatException {
        int len = readLength();
        ProtoReader sub = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return sub;
    }

    byte[] readBytes() throws ProtoFormatException {
        int len = readLength();
        byte[] out = new byte[len];
        System.arraycopy(buf, pos, out, 0, len);
        pos += len;
        return out;
    }

    String readString() throws ProtoFormatException {
        int len = readLength();
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, pos, len))
                    .toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            throw new ProtoFormatException("string field is not valid UTF-8 at byte " + pos);
        }
    }

    /** Skips a field whose key has just been read, whatever its wire type (groups included). */
    void skipField(int tag) throws ProtoFormatException {
        skipField(tag, 0);
    }

    private void skipField(int tag, int depth) throws ProtoFormatException {
        switch (tag & 7) {
            case VARINT -> readVarint();
            case FIXED64 -> skip(8, "fixed64");
            case LENGTH_DELIMITED -> {
                int len = readLength();
                pos += len;
            }
            case START_GROUP -> {
                if (depth >= MAX_GROUP_DEPTH) {
                    throw new ProtoFormatException("groups nested too deeply at byte " + pos);
                }
                int field = tag >>> 3;
                while (true) {
                    if (!hasMore()) {
                        throw truncated("group " + field);
                    }
                    int inner = readTag();
                    if ((inner & 7) == END_GROUP) {
                        if (inner >>> 3 != field) {
                            throw new ProtoFormatException("group " + field + " closed by end of group " + (inner >>> 3));
                        }
                        return;
                    }
                    skipField(inner, depth + 1);
                }
            }
            case END_GROUP -> throw new ProtoFormatException("unexpected end of group " + (tag >>> 3) + " at byte " + pos);
            case FIXED32 -> skip(4, "fixed32");
            default -> throw new ProtoFormatException("unknown wire type " + (tag & 7) + " at byte " + pos);
        }
    }

    private int readLength() throws ProtoFormatException {
        long len = readVarint();
        if (len < 0 || len > limit - pos) {
            throw truncated("length-delimited field of " + len + " bytes");
        }
        return (int) len;
    }

    private void skip(int n, String what) throws ProtoFormatException {
        require(n, what);
        pos += n;
    }

    private void require(int n, String what) throws ProtoFormatException {
        if (limit - pos < n) {
            throw truncated(what);
        }
    }

    private ProtoFormatException truncated(String what) {
        return new ProtoFormatException("truncated " + what + " at byte " + pos);
    }

    /** Malformed protobuf data; the caller turns it into a message naming the file. */
    static final class ProtoFormatException extends Exception {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        ProtoFormatException(String message) {
            super(message);
        }
    }
}
