package io.github.chatglm4j.tensor;

import java.util.Optional;

/**
 * The storage types a weight tensor can have: plain floats and ggml's block-quantized formats. Each type knows its
 * ggml type id and block geometry so that byte sizes can be checked before any data is touched; the arithmetic
 * for each type lives in its own kernel/codec class.
 */
public enum TensorType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    BF16(30, 1, 2),
    /** 32 weights: f16 scale + 32 int8. */
    Q8_0(8, 32, 34),
    /** 32 weights: f16 scale + 16 bytes of 4-bit values offset by 8. */
    Q4_0(2, 32, 18),
    /** 32 weights: f16 scale, f16 minimum + 16 bytes of 4-bit values. */
    Q4_1(3, 32, 20),
    /** 32 weights: f16 scale, 32 high bits + 16 bytes of low nibbles, offset by 16. */
    Q5_0(6, 32, 22),
    /** 32 weights: f16 scale, f16 minimum, 32 high bits + 16 bytes of low nibbles. */
    Q5_1(7, 32, 24),
    /** 256 weights: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales/mins, 128 bytes of nibbles. */
    Q4_K(12, 256, 144),
    /** 256 weights: as Q4_K plus 32 bytes of fifth bits. */
    Q5_K(13, 256, 176),
    /** 256 weights: 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d. */
    Q6_K(14, 256, 210);

    private final int ggmlId;
    private final int blockSize;
    private final int bytesPerBlock;

    TensorType(int ggmlId, int blockSize, int bytesPerBlock) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The type's number in ggml/GGUF files. */
    public int ggmlId() {
        return ggmlId;
    }

    /** The type with this ggml id, if the engine supports it. */
    public static Optional<TensorType> fromGgmlId(int id) {
        for (TensorType t : values()) {
            if (t.ggmlId == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** True for the block-quantized types (everything but F32, F16 and BF16). */
    public boolean isQuantized() {
        return blockSize > 1;
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

    /** Bytes of one row of {@code cols} elements. */
    public long rowBytes(int cols) {
        return byteSize(cols);
    }
}
