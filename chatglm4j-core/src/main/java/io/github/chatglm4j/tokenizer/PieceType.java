package io.github.chatglm4j.tokenizer;

/** SentencePiece's piece types, with the numbers its ModelProto (and GGUF's token_type array) use. */
enum PieceType {
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    BYTE(6);

    final int code;

    PieceType(int code) {
        this.code = code;
    }

    /** Returns the type for a ModelProto/GGUF code, or null if the code is not one of them. */
    static PieceType ofCode(int code) {
        for (PieceType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
