package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Causal multi-query attention over the KV cache: query head h reads K/V group {@code h / (numHeads / kvGroups)}.
 * Scores are scaled by 1/sqrt(headDim) and soft-maxed in float32 (the reference's query-key layer scaling
 * divides and multiplies by the layer number, which cancels).
 *
 * <p>The query heads of one group read the same keys and values, so a job takes all of them (and, in a prompt,
 * several tokens) as the rows of one block and walks the cache once for the block, a tile of {@link #TILE}
 * positions at a time: the tile's head slice is decoded from the cache's storage type into a small float buffer,
 * then every row is scored against it and accumulates its values. The rows sit in vector lanes (queries and
 * outputs are held transposed, {@code [headDim][rows]}), so the score and value loops broadcast one decoded
 * element against 8 rows without horizontal sums, and the online softmax (running max and sum per row, as in
 * flash attention) runs on whole vectors including its exponentials. A token that attends alone (decoding) has
 * too few rows to keep the threads busy, so its positions are split into chunks whose partial softmax results
 * are merged afterwards; the split depends only on the sequence's own length, so a sequence gets the same
 * result decoded alone or in a batch.
 */
final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final int LANES = F.length();
    /** Positions decoded at once: the key and value tiles (32 × 128 floats each for 6B) stay in L1. */
    static final int TILE = 32;
    /** Rows (query heads × tokens) of one job: enough to amortize decoding, few enough to keep the block in L1/L2. */
    static final int MAX_ROWS = 64;
    /** A single-block sequence is split into at most this many position chunks of at least {@link #MIN_CHUNK}. */
    static final int MAX_CHUNKS = 16;
    static final int MIN_CHUNK = 512;

    /** The rows {@code [row0, row0 + rows)} of a pass belong to {@code cache}, at positions {@code pos0, pos0 + 1, …}. */
    record Segment(KvCache cache, int row0, int rows, int pos0) {
    }

    /**
     * One block of rows (tokens {@code [t0, t1)} of a segment × the query heads of one group) against the cache
     * positions {@code [p0, p1)}; writes the output, or a partial result at {@code partial} when {@code >= 0}.
     */
    private record Job(Segment seg, int group, int t0, int t1, int p0, int p1, int partial) {
        long cost() {
            return (long) (p1 - p0) * (t1 - t0);
        }
    }

    /** The position chunks of one segment and group, to be combined into its output. */
    private record Merge(Segment seg, int group, int first, int chunks, int rows) {
    }

    private final int layer;
    private final int headDim;
    private final int heads;
    private final int headsPerGroup;
    private final int qkvSize;
    private final float scale;
    private final float[] qkv;
    private final float[] out;
    private float[] partials;

    private Attention(ChatGLMConfig c, int layer, float[] qkv, float[] out) {
        this.layer = layer;
        this.headDim = c.headDim();
        this.heads = c.numHeads();
        this.headsPerGroup = c.numHeads() / c.kvGroups();
        this.qkvSize = c.qkvSize();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.qkv = qkv;
        this.out = out;
    }

    /**
     * For every row of every segment (its keys and values already in the cache of this layer), writes the
     * concatenated head outputs into {@code out[row·numHeads·headDim …]}.
     *
     * @param qkv the projected, rotated rows [rows, qkvSize]; queries are the first numHeads·headDim values
     */
    static void run(ChatGLMConfig c, int layer, Segment[] segments, float[] qkv, float[] out, Parallel pool) {
        new Attention(c, layer, qkv, out).run(c.kvGroups(), segments, pool);
    }

    private void run(int groups, Segment[] segments, Parallel pool) {
        int tokensPerJob = Math.max(1, MAX_ROWS / headsPerGroup);
        List<Job> jobs = new ArrayList<>();
        List<Merge> merges = new ArrayList<>();
        int partialFloats = 0;
        int maxRows = 0;
        for (Segment s : segments) {
            int end = s.pos0() + s.rows();
            for (int g = 0; g < groups; g++) {
                if (s.rows() <= tokensPerJob && end >= 2 * MIN_CHUNK) {
                    int rows = paddedRows(s.rows());
                    int chunks = Math.min(MAX_CHUNKS, end / MIN_CHUNK);
                    int chunk = roundUp((end + chunks - 1) / chunks, TILE);
                    int first = partialFloats;
                    int count = 0;
                    for (int p0 = 0; p0 < end; p0 += chunk) {
                        jobs.add(new Job(s, g, 0, s.rows(), p0, Math.min(end, p0 + chunk), partialFloats));
                        partialFloats += (headDim + 2) * rows;
                        count++;
                    }
                    merges.add(new Merge(s, g, first, count, rows));
                } else {
                    for (int t0 = 0; t0 < s.rows(); t0 += tokensPerJob) {
                        int t1 = Math.min(s.rows(), t0 + tokensPerJob);
                        jobs.add(new Job(s, g, t0, t1, 0, s.pos0() + t1, -1));
                    }
                }
                maxRows = Math.max(maxRows, paddedRows(Math.min(s.rows(), tokensPerJob)));
            }
        }
        // longest first: with jobs taken from a shared counter, that balances the threads
        jobs.sort(Comparator.comparingLong(Job::cost).reversed());
        partials = new float[partialFloats];
        int scratchRows = maxRows;
        forEach(pool, jobs.size(), () -> new Scratch(headDim, scratchRows), (i, scratch) -> block(jobs.get(i), scratch));
        if (!merges.isEmpty()) {
            forEach(pool, merges.size(), () -> null, (i, unused) -> merge(merges.get(i)));
        }
    }

    private int paddedRows(int tokens) {
        return roundUp(tokens * headsPerGroup, LANES);
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    private interface Task<S> {
        void run(int index, S scratch);
    }

    /** Runs tasks {@code 0 … n-1} on the pool's threads, each thread taking the next task when it is free. */
    private static <S> void forEach(Parallel pool, int n, java.util.function.Supplier<S> scratch, Task<S> task) {
        AtomicInteger next = new AtomicInteger();
        pool.forRange(Math.min(pool.threads(), n), (a, b) -> {
            S s = scratch.get();
            for (int i; (i = next.getAndIncrement()) < n; ) {
                task.run(i, s);
            }
        });
    }

    /** Per-thread buffers of one call. */
    private static final class Scratch {
        final float[] qT;       // [headDim][rows] queries, pre-scaled
        final float[] oT;       // [headDim][rows] unnormalized outputs
        final float[] sT;       // [TILE][rows] scores, then probabilities
        final float[] kt;       // [TILE][headDim] decoded keys
        final float[] vt;       // [TILE][headDim] decoded values
        final float[] max;
        final float[] sum;
        final int[] limit;      // first position a row must not see

        Scratch(int headDim, int rows) {
            qT = new float[headDim * rows];
            oT = new float[headDim * rows];
            sT = new float[TILE * rows];
            kt = new float[TILE * headDim];
            vt = new float[TILE * headDim];
            max = new float[rows];
            sum = new float[rows];
            limit = new int[rows];
        }
    }

    private void block(Job job, Scratch s) {
        Segment seg = job.seg();
        int rows = paddedRows(job.t1() - job.t0());
        int col = job.group() * headDim;
        KvPlane keys = seg.cache().keys(layer);
        KvPlane values = seg.cache().values(layer);

        Arrays.fill(s.qT, 0, headDim * rows, 0f);
        Arrays.fill(s.oT, 0, headDim * rows, 0f);
        Arrays.fill(s.max, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(s.sum, 0, rows, 0f);
        Arrays.fill(s.limit, 0, rows, seg.pos0() + job.t1()); // padding rows: zero queries that see everything
        for (int t = job.t0(); t < job.t1(); t++) {
            for (int i = 0; i < headsPerGroup; i++) {
                int r = (t - job.t0()) * headsPerGroup + i;
                int q = (seg.row0() + t) * qkvSize + (job.group() * headsPerGroup + i) * headDim;
                for (int d = 0; d < headDim; d++) {
                    s.qT[d * rows + r] = qkv[q + d] * scale;
                }
                s.limit[r] = seg.pos0() + t + 1;
            }
        }
        int minLimit = seg.pos0() + job.t0() + 1;

        for (int j0 = job.p0(); j0 < job.p1(); j0 += TILE) {
            int n = Math.min(TILE, job.p1() - j0);
            int n4 = roundUp(n, 4); // the kernels take positions by 4; the extra ones are masked
            keys.decode(j0, n, col, headDim, s.kt);
            scores(s.qT, rows, s.kt, headDim, n4, s.sT);
            int firstMasked = Math.max(0, Math.min(n, minLimit - j0));
            if (firstMasked < n4) {
                mask(s.sT, rows, s.limit, j0, firstMasked, n, n4);
            }
            softmaxStep(s, rows, n4);
            values.decode(j0, n, col, headDim, s.vt);
            accumulate(s.sT, rows, s.vt, headDim, n4, s.oT);
        }

        if (job.partial() < 0) {
            for (int t = job.t0(); t < job.t1(); t++) {
                for (int i = 0; i < headsPerGroup; i++) {
                    int r = (t - job.t0()) * headsPerGroup + i;
                    int o = (seg.row0() + t) * heads * headDim + (job.group() * headsPerGroup + i) * headDim;
                    float inv = 1f / s.sum[r];
                    for (int d = 0; d < headDim; d++) {
                        out[o + d] = s.oT[d * rows + r] * inv;
                    }
                }
            }
        } else {
            int p = job.partial();
            System.arraycopy(s.max, 0, partials, p, rows);
            System.arraycopy(s.sum, 0, partials, p + rows, rows);
            System.arraycopy(s.oT, 0, partials, p + 2 * rows, headDim * rows);
        }
    }

    /** Combines the chunks' running max, sum and outputs into the softmax over all positions. */
    private void merge(Merge m) {
        int rows = m.rows();
        int stride = (headDim + 2) * rows;
        Segment seg = m.seg();
        for (int t = 0; t < seg.rows(); t++) {
            for (int i = 0; i < headsPerGroup; i++) {
                int r = t * headsPerGroup + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < m.chunks(); k++) {
                    max = Math.max(max, partials[m.first() + k * stride + r]);
                }
                int o = (seg.row0() + t) * heads * headDim + (m.group() * headsPerGroup + i) * headDim;
                Arrays.fill(out, o, o + headDim, 0f);
                float sum = 0;
                for (int k = 0; k < m.chunks(); k++) {
                    int p = m.first() + k * stride;
                    float w = (float) Math.exp(partials[p + r] - max); // an empty chunk has max -inf: weight 0
                    sum += w * partials[p + rows + r];
                    for (int d = 0; d < headDim; d++) {
                        out[o + d] += w * partials[p + 2 * rows + d * rows + r];
                    }
                }
                float inv = 1f / sum;
                for (int d = 0; d < headDim; d++) {
                    out[o + d] *= inv;
                }
            }
        }
    }

    /** {@code sT[j][r] = q_r · k_j} for positions {@code j < n4}, rows in lanes, 2 row vectors × 4 positions a step. */
    static void scores(float[] qT, int rows, float[] kt, int headDim, int n4, float[] sT) {
        int r = 0;
        for (; r + 2 * LANES <= rows; r += 2 * LANES) {
            for (int j = 0; j < n4; j += 4) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                int k0 = j * headDim;
                for (int d = 0; d < headDim; d++) {
                    FloatVector qa = FloatVector.fromArray(F, qT, d * rows + r);
                    FloatVector qb = FloatVector.fromArray(F, qT, d * rows + r + LANES);
                    FloatVector k = FloatVector.broadcast(F, kt[k0 + d]);
                    a0 = qa.fma(k, a0);
                    b0 = qb.fma(k, b0);
                    k = FloatVector.broadcast(F, kt[k0 + headDim + d]);
                    a1 = qa.fma(k, a1);
                    b1 = qb.fma(k, b1);
                    k = FloatVector.broadcast(F, kt[k0 + 2 * headDim + d]);
                    a2 = qa.fma(k, a2);
                    b2 = qb.fma(k, b2);
                    k = FloatVector.broadcast(F, kt[k0 + 3 * headDim + d]);
                    a3 = qa.fma(k, a3);
                    b3 = qb.fma(k, b3);
                }
                int o = j * rows + r;
                a0.intoArray(sT, o);
                b0.intoArray(sT, o + LANES);
                a1.intoArray(sT, o + rows);
                b1.intoArray(sT, o + rows + LANES);
                a2.intoArray(sT, o + 2 * rows);
                b2.intoArray(sT, o + 2 * rows + LANES);
                a3.intoArray(sT, o + 3 * rows);
                b3.intoArray(sT, o + 3 * rows + LANES);
            }
        }
        if (r < rows) {
            for (int j = 0; j < n4; j += 4) {
                FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                int k0 = j * headDim;
                for (int d = 0; d < headDim; d++) {
                    FloatVector qa = FloatVector.fromArray(F, qT, d * rows + r);
                    a0 = qa.fma(FloatVector.broadcast(F, kt[k0 + d]), a0);
                    a1 = qa.fma(FloatVector.broadcast(F, kt[k0 + headDim + d]), a1);
                    a2 = qa.fma(FloatVector.broadcast(F, kt[k0 + 2 * headDim + d]), a2);
                    a3 = qa.fma(FloatVector.broadcast(F, kt[k0 + 3 * headDim + d]), a3);
                }
                int o = j * rows + r;
                a0.intoArray(sT, o);
                a1.intoArray(sT, o + rows);
                a2.intoArray(sT, o + 2 * rows);
                a3.intoArray(sT, o + 3 * rows);
            }
        }
    }

    /** Sets to -inf the scores of positions past the tile ({@code j >= n}) or past a row's causal limit. */
    private static void mask(float[] sT, int rows, int[] limit, int j0, int from, int n, int n4) {
        for (int j = from; j < n4; j++) {
            int pos = j0 + j;
            for (int r = 0; r < rows; r++) {
                if (j >= n || pos >= limit[r]) {
                    sT[j * rows + r] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /**
     * Online softmax over one tile: raises each row's running max, rescales its sum and output by
     * exp(old max − new max), and turns the tile's scores into exp(score − new max).
     */
    private void softmaxStep(Scratch s, int rows, int n4) {
        for (int r = 0; r < rows; r += LANES) {
            FloatVector oldMax = FloatVector.fromArray(F, s.max, r);
            FloatVector newMax = oldMax;
            for (int j = 0; j < n4; j++) {
                newMax = newMax.max(FloatVector.fromArray(F, s.sT, j * rows + r));
            }
            // a row that has seen only masked positions keeps max -inf; subtracting 0 then gives exp(-inf) = 0
            FloatVector base = newMax.blend(0f, newMax.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY));
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < n4; j++) {
                FloatVector p = FloatVector.fromArray(F, s.sT, j * rows + r).sub(base).lanewise(VectorOperators.EXP);
                p.intoArray(s.sT, j * rows + r);
                sum = sum.add(p);
            }
            newMax.intoArray(s.max, r);
            if (newMax.compare(VectorOperators.EQ, oldMax).allTrue()) {
                FloatVector.fromArray(F, s.sum, r).add(sum).intoArray(s.sum, r);
            } else {
                FloatVector correction = oldMax.sub(base).lanewise(VectorOperators.EXP);
                FloatVector.fromArray(F, s.sum, r).fma(correction, sum).intoArray(s.sum, r);
                for (int d = 0; d < headDim; d++) {
                    int o = d * rows + r;
                    FloatVector.fromArray(F, s.oT, o).mul(correction).intoArray(s.oT, o);
                }
            }
        }
    }

    /** {@code oT[d][r] += sum_j p[j][r] · v_j[d]}, 2 row vectors × 4 dimensions a step. */
    static void accumulate(float[] sT, int rows, float[] vt, int headDim, int n4, float[] oT) {
        int r = 0;
        for (; r + 2 * LANES <= rows; r += 2 * LANES) {
            for (int d = 0; d < headDim; d += 4) {
                int o = d * rows + r;
                FloatVector a0 = FloatVector.fromArray(F, oT, o), b0 = FloatVector.fromArray(F, oT, o + LANES);
                FloatVector a1 = FloatVector.fromArray(F, oT, o + rows), b1 = FloatVector.fromArray(F, oT, o + rows + LANES);
                FloatVector a2 = FloatVector.fromArray(F, oT, o + 2 * rows), b2 = FloatVector.fromArray(F, oT, o + 2 * rows + LANES);
                FloatVector a3 = FloatVector.fromArray(F, oT, o + 3 * rows), b3 = FloatVector.fromArray(F, oT, o + 3 * rows + LANES);
                for (int j = 0; j < n4; j++) {
                    FloatVector pa = FloatVector.fromArray(F, sT, j * rows + r);
                    FloatVector pb = FloatVector.fromArray(F, sT, j * rows + r + LANES);
                    int v = j * headDim + d;
                    FloatVector x = FloatVector.broadcast(F, vt[v]);
                    a0 = pa.fma(x, a0);
                    b0 = pb.fma(x, b0);
                    x = FloatVector.broadcast(F, vt[v + 1]);
                    a1 = pa.fma(x, a1);
                    b1 = pb.fma(x, b1);
                    x = FloatVector.broadcast(F, vt[v + 2]);
                    a2 = pa.fma(x, a2);
                    b2 = pb.fma(x, b2);
                    x = FloatVector.broadcast(F, vt[v + 3]);
                    a3 = pa.fma(x, a3);
                    b3 = pb.fma(x, b3);
                }
                a0.intoArray(oT, o);
                b0.intoArray(oT, o + LANES);
                a1.intoArray(oT, o + rows);
                b1.intoArray(oT, o + rows + LANES);
                a2.intoArray(oT, o + 2 * rows);
                b2.intoArray(oT, o + 2 * rows + LANES);
                a3.intoArray(oT, o + 3 * rows);
                b3.intoArray(oT, o + 3 * rows + LANES);
            }
        }
        if (r < rows) {
            for (int d = 0; d < headDim; d += 4) {
                int o = d * rows + r;
                FloatVector a0 = FloatVector.fromArray(F, oT, o);
                FloatVector a1 = FloatVector.fromArray(F, oT, o + rows);
                FloatVector a2 = FloatVector.fromArray(F, oT, o + 2 * rows);
                FloatVector a3 = FloatVector.fromArray(F, oT, o + 3 * rows);
                for (int j = 0; j < n4; j++) {
                    FloatVector pa = FloatVector.fromArray(F, sT, j * rows + r);
                    int v = j * headDim + d;
                    a0 = pa.fma(FloatVector.broadcast(F, vt[v]), a0);
                    a1 = pa.fma(FloatVector.broadcast(F, vt[v + 1]), a1);
                    a2 = pa.fma(FloatVector.broadcast(F, vt[v + 2]), a2);
                    a3 = pa.fma(FloatVector.broadcast(F, vt[v + 3]), a3);
                }
                a0.intoArray(oT, o);
                a1.intoArray(oT, o + rows);
                a2.intoArray(oT, o + 2 * rows);
                a3.intoArray(oT, o + 3 * rows);
            }
        }
    }
}
