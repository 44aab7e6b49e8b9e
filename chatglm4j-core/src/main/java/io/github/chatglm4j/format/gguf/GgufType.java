package io.github.chatglm4j.format.gguf;

import java.util.Locale;

/** The value types of GGUF metadata, with their numbers in the file. */
public enum GgufType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    /** u64 byte length, then UTF-8 bytes. */
    STRING(8, -1),
    /** u32 element type, u64 count, then the elements. */
    ARRAY(9, -1),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private static final GgufType[] BY_ID = values();

    private final int id;
    private final int width;

    GgufType(int id, int width) {
        this.id = id;
        this.width = width;
    }

    /** The type's number in GGUF files. */
    public int id() {
        return id;
    }

    /** Bytes of one value, or -1 for the variable-length string and array types. */
    public int width() {
        return width;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    public boolean isFloat() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The type with this number, or null. */
    static GgufType ofId(long id) {
        // ids are declared in order 0..12, so the ordinal is the id
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /** The type name as GGUF documents it ("uint32", "string", ...). */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
