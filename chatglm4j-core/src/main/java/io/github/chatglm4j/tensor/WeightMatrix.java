package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A 2-D weight {@code [rows, cols]} (PyTorch Linear layout {@code [out, in]}) in its stored type over a
 * MemorySegment, little-endian, row-major.
 *
 * <p>The segment should be native or file-mapped: vector loads from heap-array-backed segments are several times
 * slower. Products accumulate in float32 from the exactly decoded stored values. Work is split by rows across the
 * threads of the given {@link Parallel} pool; {@code pool} may be {@code null} to run on the caller only.
 */
public final class WeightMatrix {

    /** Below this many multiply-adds the hand-off to worker threads costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 1 << 16;

    /** From this many tokens on, {@link #matmul} uses the 6 x 16 panel kernel (see docs/performance.md). */
    static final int PANEL_MIN_TOKENS = Integer.getInteger("chatglm4j.matmul.panelMinTokens", 16);

    /** Up to this many tokens, Q4_0, Q8_0 and Q4_K batches use int8 group kernels like the mat-vec. */
    static final int INT8_BATCH_MAX_TOKENS = Integer.getInteger("chatglm4j.matmul.int8MaxTokens", 8);
    /** Up to this many tokens, the other block types run one int8 mat-vec per token (cheaper than a float tile). */
    static final int INT8_SINGLE_MAX_TOKENS = 3;
    /**
     * Q8_0 batches go int8 only up to 4 tokens: its int8 kernels pay a 16-to-32-bit widening per token and step, so
     * the float tile (weights decoded once, 2 FMAs per 32 weights and token) caught up at 4 and was 1.4x faster at
     * 8 tokens (KernelBench, one thread, AVX-512, regrouped).
     */
    static final int INT8_Q8_0_MAX_TOKENS = Math.min(4, INT8_BATCH_MAX_TOKENS);

    /** Whether {@link #matmul} of n tokens quantizes the activations to int8 (as {@link #matvec} always does). */
    static boolean int8Batch(TensorType type, int n) {
        if (!type.isQuantized()) {
            return false;
        }
        if (type == TensorType.Q8_0) {
            return n <= INT8_Q8_0_MAX_TOKENS;
        }
        return n <= (type.hasGroupBatch() ? INT8_BATCH_MAX_TOKENS : INT8_SINGLE_MAX_TOKENS);
    }

    /** Per calling thread, the transposed activations of the last panel product (reused: they can be tens of MB). */
    private static final ThreadLocal<float[]> TRANSPOSED = ThreadLocal.withInitial(() -> new float[0]);

    /** Per calling thread, activations permuted for a regrouped matrix's prefill products. */
    private static final ThreadLocal<float[]> PERMUTED = ThreadLocal.withInitial(() -> new float[0]);

    private final MemorySegment data;
    /**
     * What the kernels read: {@code data}, or for a file mapping a view of it of the plain native segment class
     * (same address, size, scope and read-only flag; unmapped by the same close). Why: the JDK methods that every
     * kernel inlines ({@code ByteVector.fromMemorySegment} and the segment accessors) keep one type profile for all
     * callers. With file-mapped matrices next to native ones (repacked copies, the mapped Q6_K output layer), that
     * profile said "mapped", C2 hoisted a class check on the segment out of the regrouped kernels' loops as a
     * profiled loop predicate, the native segments failed it ({@code -Xlog:deoptimization}: {@code profile_predicate
     * maybe_recompile}, the predicate traced to {@code cmp klass, MappedMemorySegmentImpl} in the disassembly), and
     * after a few such traps the kernels were recompiled without loop predication: segment liveness and range
     * checks back inside the inner loop. One class for all weights keeps the profile monomorphic.
     */
    private final MemorySegment kernelData;
    private final TensorType type;
    private final int rows;
    private final int cols;
    /** Q4_0 or Q8_0 in {@link BlockGroups}' layout rather than ggml's. */
    private final boolean regrouped;

    /** Wraps {@code data}; its byte size must be exactly that of {@code rows x cols} values of {@code type}. */
    public WeightMatrix(MemorySegment data, TensorType type, int rows, int cols) {
        this(data, type, rows, cols, false);
    }

    private WeightMatrix(MemorySegment data, TensorType type, int rows, int cols, boolean regrouped) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(type, "type");
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("weight matrix shape must be positive, got [" + rows + ", " + cols + "]");
        }
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException("weight matrix [" + rows + ", " + cols + "] of " + type + ": the row length "
                    + cols + " is not a multiple of the block size " + type.blockSize());
        }
        long expected = type.byteSize((long) rows * cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("weight matrix [" + rows + ", " + cols + "] of " + type + " needs "
                    + expected + " bytes, the segment has " + data.byteSize());
        }
        this.data = data;
        this.kernelData = data.isMapped() ? data.reinterpret(data.byteSize()) : data;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.regrouped = regrouped;
    }

    /** Whether {@link #regroup} applies: a type with a regrouped layout (Q4_0, Q8_0), in ggml's layout. */
    public boolean canRegroup() {
        return type.hasRegroupedLayout() && !regrouped;
    }

    /**
     * Rewrites one Q4_0 row of {@code cols} weights from ggml's layout ({@code src}) into the regrouped layout
     * ({@code dst}, same size): for producers that write a matrix row by row, then wrap it with {@link #regrouped}.
     */
    public static void regroupRow(MemorySegment src, MemorySegment dst, int cols) {
        TensorType.Q4_0.regrouping().repack().rows(src, dst, cols, 0, 1);
    }

    /** Declares a Q4_0 matrix whose rows were each written with {@link #regroupRow} as regrouped. */
    public static WeightMatrix regrouped(WeightMatrix rowsRegrouped) {
        if (!rowsRegrouped.canRegroup()) {
            throw new IllegalArgumentException(rowsRegrouped + " is not a Q4_0 matrix in ggml's layout");
        }
        if (rowsRegrouped.type != TensorType.Q4_0) {
            throw new IllegalArgumentException(rowsRegrouped + " is not a Q4_0 matrix in ggml's layout");
        }
        return new WeightMatrix(rowsRegrouped.data, TensorType.Q4_0, rowsRegrouped.rows, rowsRegrouped.cols, true);
    }

    /** True if the bytes are in the regrouped layout of {@link #regroup}, not in ggml's. */
    public boolean isRegrouped() {
        return regrouped;
    }

    /**
     * A copy of this Q4_0 or Q8_0 matrix with the blocks of each row regrouped 16 or 32 at a time (the vector
     * width, {@code BlockGroups}) for the faster kernels of {@code InterleavedQ4_0}/{@code InterleavedQ8_0} (same
     * bytes, same size, another order), written to {@code dst}; rows are split over
     * {@code pool} (null: the caller). The result reads from {@code dst} only. Throws if {@link #canRegroup} is
     * false or {@code dst} has not exactly this matrix's size.
     */
    public WeightMatrix regroup(MemorySegment dst, Parallel pool) {
        if (!canRegroup()) {
            throw new IllegalStateException(this + " cannot be regrouped (only Q4_0 and Q8_0 in ggml's layout)");
        }
        if (dst.byteSize() != data.byteSize()) {
            throw new IllegalArgumentException("regrouping " + this + " needs " + data.byteSize() + " bytes, got " + dst.byteSize());
        }
        TensorType.Regrouping.Repack repack = type.regrouping().repack();
        Parallel.forRange(pool, rows, (r0, r1) -> repack.rows(data, dst, cols, r0, r1));
        return new WeightMatrix(dst, type, rows, cols, true);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public TensorType type() {
        return type;
    }

    /** The stored bytes: ggml's layout for {@link #type()}, or the regrouped layout if {@link #isRegrouped()}. */
    public MemorySegment data() {
        return data;
    }

    /** {@code out[r] = sum_c W[r][c] * x[c]} for r in {@code [0, rows)}. */
    public void matvec(float[] x, float[] out, Parallel pool) {
        long t0 = StepProfile.start();
        requireLength("x", x, cols);
        requireLength("out", out, rows);
        run(pool, (long) rows * cols, rowBody(x, 1, out, pool));
        StepProfile.add(StepProfile.ENABLED ? StepProfile.matmulPhase(type, regrouped, 1) : null, t0);
    }

    /**
     * Batched product: {@code x} holds {@code n} rows of {@code cols} floats (row-major) and {@code out} receives
     * {@code n} rows of {@code rows} floats, {@code out[t*rows + r] = sum_c W[r][c] * x[t*cols + c]}. Each weight
     * is read and decoded once per call and used for all tokens from cache: in register tiles of 4 tokens for a
     * few tokens ({@link PackedMatmul}), of 16 tokens x 6 rows from {@link #PANEL_MIN_TOKENS} tokens on
     * ({@link PanelMatmul}). Activations stay float32, except for block-quantized weights with n = 1 (the int8
     * mat-vec) and a few tokens: group kernels for Q4_0/Q8_0/Q4_K ({@link QuantBatchKernels}), one int8 mat-vec
     * per token for the other block types.
     */
    public void matmul(float[] x, int n, float[] out, Parallel pool) {
        if (n < 1) {
            throw new IllegalArgumentException("token count must be at least 1, got " + n);
        }
        requireLength("x", x, (long) n * cols);
        requireLength("out", out, (long) n * rows);
        if (n == 1) {
            matvec(x, out, pool);
            return;
        }
        long t0 = StepProfile.start();
        matmulBatch(x, n, out, pool);
        StepProfile.add(StepProfile.ENABLED ? StepProfile.matmulPhase(type, regrouped, n) : null, t0);
    }

    private void matmulBatch(float[] x, int n, float[] out, Parallel pool) {
        long work = (long) rows * cols * n;
        if (int8Batch(type, n)) {
            run(pool, work, rowBody(x, n, out, pool));
            return;
        }
        RowDecoder decoder = decoder();
        if (regrouped) {
            // the weights are decoded in stored order, so the activations' columns take that order too
            float[] p = PERMUTED.get();
            if (p.length < n * cols) {
                p = new float[n * cols];
                PERMUTED.set(p);
            }
            for (int t = 0; t < n; t++) {
                BlockGroups.permute(x, t * cols, p, t * cols, cols);
            }
            x = p;
        }
        float[] xs = x;
        if (n < PANEL_MIN_TOKENS) {
            run(pool, work, (r0, r1) -> PackedMatmul.rows(decoder, rows, cols, xs, n, out, r0, r1));
            return;
        }
        int tiles = PanelMatmul.tiles(n);
        float[] xt = TRANSPOSED.get();
        if (xt.length < tiles * cols * PanelMatmul.NR) {
            xt = new float[tiles * cols * PanelMatmul.NR];
            TRANSPOSED.set(xt);
        }
        float[] xtFinal = xt;
        if (pool == null || pool.threads() == 1 || tiles == 1) {
            PanelMatmul.transpose(xs, n, cols, xt, 0, tiles);
        } else {
            pool.forRange(tiles, (t0, t1) -> PanelMatmul.transpose(xs, n, cols, xtFinal, t0, t1));
        }
        run(pool, work, (r0, r1) -> PanelMatmul.rows(decoder, rows, cols, xtFinal, n, out, r0, r1));
    }

    /**
     * The row-range body of the product of {@code n} tokens where it is not tiled: the mat-vec (n = 1) and the int8
     * batches ({@link #int8Batch}); null for the float tiles. Quantizes the activations (with {@code pool}).
     */
    private Parallel.RangeBody rowBody(float[] x, int n, float[] out, Parallel pool) {
        if (n == 1) {
            if (!type.isQuantized()) {
                TensorType.FloatRows kernel = type.floatRows();
                return (r0, r1) -> kernel.rows(kernelData, cols, x, out, r0, r1);
            }
            Q8Activations a = Q8Activations.reused(x, 1, cols, pool);
            if (regrouped) {
                return type.regrouping().matvec().body(kernelData, cols, a, out, pool);
            }
            TensorType.Int8Rows kernel = type.int8Rows();
            return (r0, r1) -> kernel.rows(kernelData, cols, a, 0, out, 0, r0, r1);
        }
        if (!int8Batch(type, n)) {
            return null;
        }
        Q8Activations a = Q8Activations.reused(x, n, cols, pool);
        if (regrouped) {
            return type.regrouping().batch().body(kernelData, rows, cols, a, out, pool);
        }
        TensorType.Int8Batch kernel = type.int8Batch();
        return (r0, r1) -> kernel.rows(kernelData, rows, cols, a, out, r0, r1);
    }

    private RowDecoder decoder() {
        if (regrouped) {
            TensorType.Regrouping.StoredOrderDecoder d = type.regrouping().decoder();
            return (r, c0, dst, off, len) -> d.decode(kernelData, cols, r, c0, dst, off, len);
        }
        return (r, c0, dst, off, len) -> Decode.row(type, kernelData, Decode.byteOffset(type, (long) r * cols + c0), dst, off, len);
    }

    /** Row {@code r} decoded to floats into {@code dst[dstOffset, dstOffset + cols)} (for embedding lookups). */
    public void copyRow(int r, float[] dst, int dstOffset) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(dstOffset, cols, dst.length);
        if (regrouped) {
            float[] stored = new float[cols];
            decoder().decode(r, 0, stored, 0, cols);
            BlockGroups.unpermute(stored, dst, dstOffset, cols);
            return;
        }
        Decode.row(type, kernelData, Decode.byteOffset(type, (long) r * cols), dst, dstOffset, cols);
    }

    private void run(Parallel pool, long work, Parallel.RangeBody body) {
        Parallel.forRange(work < PARALLEL_THRESHOLD ? null : pool, rows, body);
    }

    private static void requireLength(String name, float[] array, long needed) {
        if (array.length < needed) {
            throw new IllegalArgumentException(name + " has " + array.length + " floats, needs at least " + needed);
        }
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + rows + " x " + cols + ", " + type + (regrouped ? " regrouped" : "") + "]";
    }
}
