package io.github.chatglm4j.tensor;

/**
 * Activations quantized to int8 per block of 32, the integer operand of the quantized kernels (the role of ggml's
 * Q8_0 activations). For token t and block b of 32 values x[32b .. 32b+31]:
 * <pre>
 *   amax = max |x|,  d = amax / 127,  q[i] = round(x[i] * (1/d))  (Math.round; 0 when amax = 0)
 *   scale[b] = d,  sum[b] = d * sum_i q[i]
 * </pre>
 * so that {@code x~[i] = d * q[i]} approximates x with an error of at most {@code d/2 = amax/254} per value (plus
 * float rounding of the product). A kernel computes {@code W . x~} exactly up to float32 accumulation; {@code sum}
 * serves the weight offsets (Q4_0's -8, Q4_1's min, the K-quants' mins), which multiply sum_i x~[i].
 *
 * <p>The values are stored widened to 16 bits because every kernel multiplies in 16-bit lanes (int8 x 4/5/6/8-bit
 * products and sums of two of them fit in a short), so loading them needs no conversion. Quantizing is O(n*cols),
 * done once per product and shared by all threads.
 */
final class Q8Activations {

    final int tokens;
    final int cols;
    /** {@code tokens * cols} quantized values, row-major. */
    final short[] q;
    /** {@code tokens * cols/32} block scales d. */
    final float[] scale;
    /** {@code tokens * cols/32} values {@code d * sum q} of each block. */
    final float[] sum;
    /** {@link #q} permuted for the regrouped kernels ({@link BlockGroups}), made on first use after quantizing. */
    private volatile short[] grouped;
    /** The array of {@link #grouped} kept between uses of a reused instance ({@link #reused}). */
    private short[] groupedBuffer;

    private Q8Activations(int tokens, int cols) {
        this.tokens = tokens;
        this.cols = cols;
        this.q = new short[tokens * cols];
        this.scale = new float[tokens * cols / 32];
        this.sum = new float[tokens * cols / 32];
    }

    /**
     * The values in the order of {@link InterleavedQ4_0}'s groups: per token, per group of 16 blocks, value k of
     * block j at {@code 16k + j} and value k + 16 at {@code 256 + 16k + j}; the last {@code blocks % 16} blocks of
     * a token keep their order. Made on first call, which must happen before the activations are shared with
     * other threads (the products call it on the calling thread).
     */
    short[] grouped() {
        return grouped(null);
    }

    /** {@link #grouped()}, made with the threads of {@code pool} (null: the caller) if it is not made yet. */
    short[] grouped(Parallel pool) {
        short[] g = grouped;
        if (g == null) {
            short[] dst = groupedBuffer != null ? groupedBuffer : new short[q.length];
            int groupCols = BlockGroups.GROUP_COLS;
            int groups = cols / groupCols;
            // one unit per (token, group), plus one per token for the tail that keeps its order
            int units = tokens * (groups + 1);
            Parallel.RangeBody body = (u0, u1) -> {
                for (int u = u0; u < u1; u++) {
                    int t = u / (groups + 1);
                    int gr = u % (groups + 1);
                    int o = t * cols + gr * groupCols;
                    if (gr < groups) {
                        BlockGroups.permuteGroup(q, o, dst, o);
                    } else {
                        System.arraycopy(q, o, dst, o, (t + 1) * cols - o);
                    }
                }
            };
            Parallel.forRange(q.length < PARALLEL_VALUES ? null : pool, units, body);
            groupedBuffer = dst;
            grouped = g = dst;
        }
        return g;
    }

    /** Quantizes {@code tokens} rows of {@code cols} values (a multiple of 32) from {@code x}. */
    static Q8Activations quantize(float[] x, int tokens, int cols) {
        return quantize(x, tokens, cols, null);
    }

    /** Below this many values, handing work to the pool costs more than it saves. */
    private static final int PARALLEL_VALUES = 8192;

    /** {@link #quantize(float[], int, int)} with the blocks split over the threads of {@code pool} (null: the caller). */
    static Q8Activations quantize(float[] x, int tokens, int cols, Parallel pool) {
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("int8 activations need a multiple of 32 columns, got " + cols);
        }
        return quantizeInto(new Q8Activations(tokens, cols), x, pool);
    }

    /** Instances kept per calling thread by {@link #reused}, one per shape (a decode pass uses 2-3 shapes). */
    private static final ThreadLocal<Q8Activations[]> REUSED = ThreadLocal.withInitial(() -> new Q8Activations[8]);

    /**
     * {@link #quantize(float[], int, int, Parallel)} into buffers this thread used before for the same shape
     * (~230 KB per decode pass of the 6B model were allocated here otherwise). The result is valid until the
     * calling thread quantizes the next activations of the same shape: for products that finish before they
     * return, as {@link WeightMatrix}'s do.
     */
    static Q8Activations reused(float[] x, int tokens, int cols, Parallel pool) {
        if (cols % 32 != 0) {
            throw new IllegalArgumentException("int8 activations need a multiple of 32 columns, got " + cols);
        }
        Q8Activations[] cache = REUSED.get();
        int slot = -1;
        for (int i = 0; i < cache.length && slot < 0; i++) {
            if (cache[i] == null || (cache[i].tokens == tokens && cache[i].cols == cols)) {
                slot = i;
            }
        }
        if (slot < 0) {
            // more shapes than slots: start over (a decode pass needs 2-3, batches add one per token count)
            java.util.Arrays.fill(cache, null);
            slot = 0;
        }
        Q8Activations a = cache[slot];
        if (a == null) {
            a = cache[slot] = new Q8Activations(tokens, cols);
        }
        a.grouped = null; // stale: made again from the new values on first use
        return quantizeInto(a, x, pool);
    }

    private static Q8Activations quantizeInto(Q8Activations a, float[] x, Parallel pool) {
        int tokens = a.tokens;
        int cols = a.cols;
        int blocks = tokens * cols / 32;
        Parallel.forRange(tokens * cols < PARALLEL_VALUES ? null : pool, blocks, (b0, b1) -> a.quantizeBlocks(x, b0, b1));
        return a;
    }

    private void quantizeBlocks(float[] x, int b0, int b1) {
        for (int b = b0; b < b1; b++) {
            int base = 32 * b;
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[base + i]));
            }
            float d = amax / 127;
            float inv = d == 0 ? 0 : 1 / d;
            int s = 0;
            for (int i = 0; i < 32; i++) {
                int v = Math.round(x[base + i] * inv);
                q[base + i] = (short) v;
                s += v;
            }
            scale[b] = d;
            sum[b] = d * s;
        }
    }
}
