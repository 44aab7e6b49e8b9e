package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.tensor.codec.BlockCodec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Quantizes float weight matrices (F32, F16, BF16, typically slices of a file mapping) into native memory that it
 * owns: one allocation per matrix in a shared arena, freed by {@link #close()}. Rows are decoded one at a time
 * into a small float buffer, never the whole matrix, and split across the threads of a {@link Parallel} pool.
 */
public final class MatrixQuantizer implements AutoCloseable {

    /** Receives progress in bytes of source data converted, out of the total of one {@link #quantize} call. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void update(long done, long total);
    }

    /**
     * One matrix to convert.
     *
     * @param name   for error messages (the tensor name)
     * @param source a float matrix
     * @param target a block-quantized type whose block size divides the column count
     */
    public record Job(String name, WeightMatrix source, TensorType target) {
        public Job {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
        }
    }

    /** Source bytes per progress step (and per hand-off to the pool): frequent updates, negligible overhead. */
    private static final long BATCH_BYTES = 8L << 20;

    private final Arena arena = Arena.ofShared();
    private final Parallel pool;
    private final Progress progress;
    private long allocated;
    private boolean closed;

    private final boolean regroupQ4_0;

    /** {@code pool} may be null to run on the caller only. Q4_0 results are in ggml's layout. */
    public MatrixQuantizer(Parallel pool, Progress progress) {
        this(pool, progress, false);
    }

    /**
     * {@code pool} may be null to run on the caller only; with {@code regroupQ4_0}, Q4_0 results are written
     * directly in the layout of {@link WeightMatrix#regroup} (one row at a time, no second copy).
     */
    public MatrixQuantizer(Parallel pool, Progress progress, boolean regroupQ4_0) {
        this.pool = pool;
        this.progress = progress == null ? Progress.NONE : progress;
        this.regroupQ4_0 = regroupQ4_0;
    }

    /**
     * Copies the matrices that {@link WeightMatrix#canRegroup} into memory this quantizer owns, regrouped, and
     * releases the pages of mapped sources from this process ({@link MemorySegment#unload}, whole pages, so the
     * first and last page may be shared with a neighbouring tensor, which faults back in from the file: meant for
     * read-only file mappings); the others are returned as they are. Same order as {@code matrices}.
     */
    public List<WeightMatrix> regroup(List<WeightMatrix> matrices) {
        return regroup(matrices, EnumSet.allOf(TensorType.class)); // canRegroup picks the types
    }

    /** As {@link #regroup(List)} for the matrices of the given types only; the others are returned as they are. */
    public List<WeightMatrix> regroup(List<WeightMatrix> matrices, Set<TensorType> types) {
        if (closed) {
            throw new IllegalStateException("the quantizer is closed");
        }
        long total = 0;
        for (WeightMatrix m : matrices) {
            total += m.canRegroup() && types.contains(m.type()) ? m.data().byteSize() : 0;
        }
        List<WeightMatrix> out = new ArrayList<>(matrices.size());
        long done = 0;
        progress.update(0, total);
        for (WeightMatrix m : matrices) {
            if (!m.canRegroup() || !types.contains(m.type())) {
                out.add(m);
                continue;
            }
            MemorySegment dst = arena.allocate(m.data().byteSize(), 64);
            allocated += dst.byteSize();
            out.add(m.regroup(dst, pool));
            if (m.data().isMapped()) {
                m.data().unload();
            }
            done += dst.byteSize();
            progress.update(done, total);
        }
        return out;
    }

    /**
     * Converts every job (all are checked before any work starts) and returns the quantized matrices in job order.
     * Throws {@link IllegalArgumentException} naming the tensor if a source is not F32/F16/BF16, a target is not a
     * block type or the column count is not a multiple of its block size, or a value cannot be quantized.
     */
    public List<WeightMatrix> quantize(List<Job> jobs) {
        if (closed) {
            throw new IllegalStateException("the quantizer is closed");
        }
        long total = 0;
        for (Job job : jobs) {
            check(job);
            total += job.source().data().byteSize();
        }
        List<WeightMatrix> out = new ArrayList<>(jobs.size());
        long done = 0;
        progress.update(0, total);
        for (Job job : jobs) {
            WeightMatrix src = job.source();
            BlockCodec codec = job.target().codec();
            long rowBytes = job.target().rowBytes(src.cols());
            MemorySegment dst = arena.allocate(rowBytes * src.rows(), 64);
            allocated += dst.byteSize();
            long srcRowBytes = src.data().byteSize() / src.rows();
            int batch = (int) Math.clamp(BATCH_BYTES / srcRowBytes, 1, src.rows());
            for (int r0 = 0; r0 < src.rows(); r0 += batch) {
                int first = r0;
                int n = Math.min(batch, src.rows() - r0);
                boolean regroup = regroupQ4_0 && job.target() == TensorType.Q4_0;
                Parallel.RangeBody body = (a, b) -> {
                    float[] row = new float[src.cols()];
                    MemorySegment staging = regroup ? MemorySegment.ofArray(new byte[(int) rowBytes]) : null;
                    for (int r = first + a; r < first + b; r++) {
                        src.copyRow(r, row, 0);
                        try {
                            if (regroup) {
                                codec.quantize(row, 0, row.length, staging, 0);
                                WeightMatrix.regroupRow(staging, dst.asSlice(r * rowBytes, rowBytes), src.cols());
                                continue;
                            }
                            codec.quantize(row, 0, row.length, dst, r * rowBytes);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("cannot quantize row " + r + " of '" + job.name()
                                    + "' to " + job.target() + ": " + e.getMessage(), e);
                        }
                    }
                };
                Parallel.forRange(pool, n, body);
                done += n * srcRowBytes;
                progress.update(done, total);
            }
            WeightMatrix q = new WeightMatrix(dst, job.target(), src.rows(), src.cols());
            out.add(regroupQ4_0 && job.target() == TensorType.Q4_0 ? WeightMatrix.regrouped(q) : q);
        }
        return out;
    }

    private static void check(Job job) {
        WeightMatrix src = job.source();
        if (src.type().isQuantized()) {
            throw new IllegalArgumentException("cannot quantize '" + job.name() + "': it is already " + src.type());
        }
        if (!job.target().isQuantized()) {
            throw new IllegalArgumentException("cannot quantize '" + job.name() + "' to " + job.target()
                    + ": not a block-quantized type");
        }
        int bs = job.target().blockSize();
        if (src.cols() % bs != 0) {
            throw new IllegalArgumentException("cannot quantize '" + job.name() + "' [" + src.rows() + ", " + src.cols()
                    + "] to " + job.target() + ": " + src.cols() + " columns is not a multiple of its block size " + bs);
        }
    }

    /** Native bytes held by the quantized matrices. */
    public long allocatedBytes() {
        return allocated;
    }

    /** Frees every quantized matrix; they must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
