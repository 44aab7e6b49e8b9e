package io.github.chatglm4j.tensor;

import io.github.chatglm4j.tensor.codec.BlockCodec;
import io.github.chatglm4j.tensor.codec.Codecs;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Optional;

/**
 * The storage types a weight tensor can have, one row per type (as ggml's type traits): its ggml id, its codec (name,
 * block geometry, quantizer and scalar dequantizer), whether float weights may be quantized to it, and the kernels
 * that read it. Everything else works through this table; adding a type means a codec, a block decoder, an int8
 * mat-vec kernel and one row here.
 *
 * <p>The kernels stay one flat static method per type (C2 must compile each on its own: a shared method with a
 * switch inside measured 1.7x-10x slower, see docs/performance.md); a row holds references to them and the products
 * look a kernel up once per call, never per block.
 */
public enum TensorType {
    // id, codec, float decoder, float mat-vec rows
    F32(0, Codecs.F32, Decode::f32Row, DotKernels::f32Rows),
    F16(1, Codecs.F16, Decode::f16Row, DotKernels::f16Rows),
    BF16(30, Codecs.BF16, Decode::bf16Row, DotKernels::bf16Rows),

    // id, codec, quantization target, block decoder, int8 mat-vec rows [, batched int8 rows [, regrouped layout]]
    /** 32 weights: f16 scale + 32 int8. */
    Q8_0(8, Codecs.Q8_0, QuantTarget.YES, QuantDecode::q8_0, QuantDotKernels::q8_0Rows, QuantProducts::batchQ8_0,
            new Regrouping(InterleavedQ8_0::repackRows, InterleavedQ8_0::matvec, InterleavedQ8_0::batch, InterleavedQ8_0::decode)),
    /** 32 weights: f16 scale + 16 bytes of 4-bit values offset by 8. */
    Q4_0(2, Codecs.Q4_0, QuantTarget.YES, QuantDecode::q4_0, QuantDotKernels::q4_0Rows, QuantProducts::batchQ4_0,
            new Regrouping(InterleavedQ4_0::repackRows, InterleavedQ4_0::matvec, InterleavedQ4_0::batch, InterleavedQ4_0::decode)),
    /** 32 weights: f16 scale, f16 minimum + 16 bytes of 4-bit values. */
    Q4_1(3, Codecs.Q4_1, QuantTarget.YES, QuantDecode::q4_1, QuantDotKernels::q4_1Rows),
    /** 32 weights: f16 scale, 32 high bits + 16 bytes of low nibbles, offset by 16. */
    Q5_0(6, Codecs.Q5_0, QuantTarget.YES, QuantDecode::q5_0, QuantDotKernels::q5_0Rows),
    /** 32 weights: f16 scale, f16 minimum, 32 high bits + 16 bytes of low nibbles. */
    Q5_1(7, Codecs.Q5_1, QuantTarget.YES, QuantDecode::q5_1, QuantDotKernels::q5_1Rows),
    /** 256 weights: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales/mins, 128 bytes of nibbles. */
    Q4_K(12, Codecs.Q4_K, QuantTarget.NO, QuantDecode::q4k, KQuantDotKernels::q4kRows, QuantProducts::batchQ4K),
    /** 256 weights: as Q4_K plus 32 bytes of fifth bits. */
    Q5_K(13, Codecs.Q5_K, QuantTarget.NO, QuantDecode::q5k, KQuantDotKernels::q5kRows),
    /** 256 weights: 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, f16 d. */
    Q6_K(14, Codecs.Q6_K, QuantTarget.NO, QuantDecode::q6k, KQuantDotKernels::q6kRows),
    /** 256 weights: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit levels, f16 d, f16 dmin. */
    Q2_K(10, Codecs.Q2_K, QuantTarget.NO, LowBitKQuantKernels::q2kDecode, LowBitKQuantKernels::q2kRows),
    /** 256 weights: 32 bytes of high bits, 64 bytes of 2-bit low parts, 12 bytes of 6-bit scales, f16 d. */
    Q3_K(11, Codecs.Q3_K, QuantTarget.NO, LowBitKQuantKernels::q3kDecode, LowBitKQuantKernels::q3kRows),
    /** 32 weights: f16 d + 16 bytes of 4-bit indices into a non-linear grid of 16 int8 levels. */
    IQ4_NL(20, Codecs.IQ4_NL, QuantTarget.NO, Iq4Kernels::iq4nlDecode, Iq4Kernels::iq4nlRows),
    /** 256 weights: f16 d, eight 6-bit group scales, 128 bytes of IQ4_NL's grid indices. */
    IQ4_XS(23, Codecs.IQ4_XS, QuantTarget.NO, Iq4Kernels::iq4xsDecode, Iq4Kernels::iq4xsRows);

    /** Whether float weights may be quantized to a row's type while loading ({@code --quant}), or it is only read. */
    private enum QuantTarget { YES, NO }

    private final int ggmlId;
    private final BlockCodec codec;
    private final boolean quantTarget;
    private final Decoder decoder;
    private final FloatRows floatRows;
    private final Int8Rows int8Rows;
    private final Int8Batch int8Batch;
    private final boolean groupBatch;
    private final Regrouping regrouping;

    /** A plain float type. */
    TensorType(int ggmlId, BlockCodec codec, Decoder decoder, FloatRows floatRows) {
        this(ggmlId, codec, QuantTarget.NO, decoder, floatRows, null, null, false, null);
    }

    /** A block type whose batched product runs one int8 mat-vec per token. */
    TensorType(int ggmlId, BlockCodec codec, QuantTarget quantTarget, Decoder decoder, Int8Rows int8Rows) {
        this(ggmlId, codec, quantTarget, decoder, null, int8Rows, QuantProducts.perToken(int8Rows), false, null);
    }

    /** A block type with group kernels for a few tokens at once. */
    TensorType(int ggmlId, BlockCodec codec, QuantTarget quantTarget, Decoder decoder, Int8Rows int8Rows, Int8Batch int8Batch) {
        this(ggmlId, codec, quantTarget, decoder, null, int8Rows, int8Batch, true, null);
    }

    /** A block type with group kernels and a regrouped layout ({@link BlockGroups}) that loading may repack it to. */
    TensorType(int ggmlId, BlockCodec codec, QuantTarget quantTarget, Decoder decoder, Int8Rows int8Rows, Int8Batch int8Batch,
               Regrouping regrouping) {
        this(ggmlId, codec, quantTarget, decoder, null, int8Rows, int8Batch, true, regrouping);
    }

    TensorType(int ggmlId, BlockCodec codec, QuantTarget quantTarget, Decoder decoder, FloatRows floatRows, Int8Rows int8Rows,
               Int8Batch int8Batch, boolean groupBatch, Regrouping regrouping) {
        if (!codec.name().equals(name())) {
            throw new IllegalStateException("the row " + name() + " holds the " + codec);
        }
        this.ggmlId = ggmlId;
        this.codec = codec;
        this.quantTarget = quantTarget == QuantTarget.YES;
        this.decoder = decoder;
        this.floatRows = floatRows;
        this.int8Rows = int8Rows;
        this.int8Batch = int8Batch;
        this.groupBatch = groupBatch;
        this.regrouping = regrouping;
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

    /** The type named {@code name} in any case ({@code q4_k}, {@code Q4_K}). */
    public static Optional<TensorType> parse(String name) {
        for (TensorType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The lower-case name command lines use ({@code q4_k}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True for the block-quantized types (everything but F32, F16 and BF16). */
    public boolean isQuantized() {
        return codec.blockSize() > 1;
    }

    /** Whether this type has a regrouped layout for the int8 kernels (repacking at load; Q4_0 and Q8_0). */
    public boolean hasRegroupedLayout() {
        return regrouping != null;
    }

    /** Whether float weights can be quantized to this type while a model loads ({@code --quant}). */
    public boolean isQuantTarget() {
        return quantTarget;
    }

    /** Quantizer and scalar dequantizer of this type. */
    public BlockCodec codec() {
        return codec;
    }

    /** Number of elements in one block (1 for plain float types). */
    public int blockSize() {
        return codec.blockSize();
    }

    /** Bytes that one block occupies. */
    public int bytesPerBlock() {
        return codec.bytesPerBlock();
    }

    /** Bytes needed for {@code elements} values; the element count must be a whole number of blocks. */
    public long byteSize(long elements) {
        if (elements % blockSize() != 0) {
            throw new IllegalArgumentException(elements + " elements is not a multiple of the " + this + " block size " + blockSize());
        }
        return elements / blockSize() * bytesPerBlock();
    }

    /** Bytes of one row of {@code cols} elements. */
    public long rowBytes(int cols) {
        return byteSize(cols);
    }

    Decoder decoder() {
        return decoder;
    }

    /** The float mat-vec kernel of a plain float type (null for block types). */
    FloatRows floatRows() {
        return floatRows;
    }

    /** The int8-activation mat-vec kernel of a block type (null for float types). */
    Int8Rows int8Rows() {
        return int8Rows;
    }

    /** The batched int8-activation product of a block type (null for float types). */
    Int8Batch int8Batch() {
        return int8Batch;
    }

    /** Whether {@link #int8Batch} has group kernels (several tokens per pass over the weights). */
    boolean hasGroupBatch() {
        return groupBatch;
    }

    /** The regrouped layout and its kernels, or null if the type has none. */
    Regrouping regrouping() {
        return regrouping;
    }

    /**
     * A regrouped layout ({@link BlockGroups}: blocks side by side in the vector lanes, made at load): how to repack
     * rows into it, and its mat-vec, batched product and decoder (stored order), which replace the type's own.
     */
    record Regrouping(Repack repack, Matvec matvec, Batch batch, StoredOrderDecoder decoder) {
        @FunctionalInterface
        interface Repack {
            void rows(MemorySegment src, MemorySegment dst, int cols, int r0, int r1);
        }

        /** Row-range body of the mat-vec of token 0, to run on {@code pool} (which may also prepare {@code a}). */
        @FunctionalInterface
        interface Matvec {
            Parallel.RangeBody body(MemorySegment w, int cols, Q8Activations a, float[] out, Parallel pool);
        }

        /** Row-range body of the product of every token of {@code a}. */
        @FunctionalInterface
        interface Batch {
            Parallel.RangeBody body(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, Parallel pool);
        }

        /** Weights {@code [col0, col0 + len)} of a row in stored order (the activations are permuted to match). */
        @FunctionalInterface
        interface StoredOrderDecoder {
            void decode(MemorySegment w, int cols, int row, int col0, float[] dst, int p, int len);
        }
    }

    /** Decodes {@code blocks} whole blocks at {@code byteOffset} to float32, exactly as ggml's dequantizer. */
    @FunctionalInterface
    interface Decoder {
        void decode(MemorySegment src, long byteOffset, float[] dst, int dstOffset, int blocks);
    }

    /** {@code out[r] = W[r] . x} for rows {@code [r0, r1)} of a float matrix with {@code cols} columns. */
    @FunctionalInterface
    interface FloatRows {
        void rows(MemorySegment w, int cols, float[] x, float[] out, int r0, int r1);
    }

    /** {@code out[outBase + r] = W[r] . x~_t} for rows {@code [r0, r1)} and token {@code t} of the int8 activations. */
    @FunctionalInterface
    interface Int8Rows {
        void rows(MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase, int r0, int r1);
    }

    /** {@code out[t*rows + r] = W[r] . x~_t} for rows {@code [r0, r1)} and every token of the int8 activations. */
    @FunctionalInterface
    interface Int8Batch {
        void rows(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1);
    }
}
