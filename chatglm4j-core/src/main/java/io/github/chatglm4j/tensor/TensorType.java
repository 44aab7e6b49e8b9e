package io.github.chatglm4j.tensor;

/**
 * The storage types a weight tensor can have. Each type knows its block geometry so that byte sizes can be
 * checked before any data is touched; the arithmetic for each type lives in its own kernel class.
 */
public enum TensorType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2);

    private final int blockSize;
    private final int bytesPerBlock;

    TensorType(int blockSize, int bytesPerBlock) {
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** Number of elements in one block (1 for plain float types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes that one block occupies. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** Bytes needed for {@code elements} values; the element count must be a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a multiple of the " + this + " block size " + blockSize);
        }
        return elements / blockSize * bytesPerBlock;
    }
}
