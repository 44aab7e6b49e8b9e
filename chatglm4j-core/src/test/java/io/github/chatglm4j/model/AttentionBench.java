package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Attention cost with chatglm3-6b shapes (32 heads, 2 KV groups, head dim 128) over caches of 1K, 8K and 32K
 * positions: one decode token, and a 128-token prompt block at the end of the cache, per KV type and thread
 * count. Prints the median time per token for all 28 layers: CPU time of the calling thread with 1 thread (robust
 * on a shared machine), wall time with more. Not a test: run from chatglm4j-core after
 * {@code mvn -q -B -o -pl chatglm4j-core test-compile}:
 * <pre>
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *     io.github.chatglm4j.model.AttentionBench [lengths=1024,8192,32768] [types=f32,f16,q8_0] [threads=1,2]
 * </pre>
 */
public final class AttentionBench {
    private static final int LAYERS = 28;
    private static final int PROMPT = 128;

    private AttentionBench() {
    }

    public static void main(String[] args) {
        int[] lengths = ints(arg(args, 0, "1024,8192,32768"));
        String[] types = arg(args, 1, "f32,f16,q8_0").split(",");
        int[] threads = ints(arg(args, 2, "1,2"));
        ChatGLMConfig c = new ChatGLMConfig(1, 4096, 13696, 32, 128, 2, 65024, 131072, 1e-5f, 1f);
        // warm up the kernels (they are slow until C2 compiles them)
        try (Parallel pool = Parallel.create(1)) {
            long until = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < until) {
                measure(c, KvType.F16, pool, 1024, 1);
                measure(c, KvType.F16, pool, 1024, PROMPT);
            }
        }
        System.out.println("| KV type | threads | positions | decode ms/token (28 layers) | prompt ms/token (128-token block, 28 layers) |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (String typeName : types) {
            KvType type = KvType.parse(typeName);
            for (int t : threads) {
                try (Parallel pool = Parallel.create(t)) {
                    for (int len : lengths) {
                        double decode = measure(c, type, pool, len, 1);
                        double prompt = measure(c, type, pool, len, PROMPT) / PROMPT;
                        System.out.printf(Locale.ROOT, "| %s | %d | %d | %.2f | %.2f |%n", type.label(), t, len,
                                decode * LAYERS * 1e3, prompt * LAYERS * 1e3);
                    }
                }
            }
        }
    }

    /** Median seconds of one layer's attention for {@code rows} new tokens that end at position {@code len}. */
    private static double measure(ChatGLMConfig c, KvType type, Parallel pool, int len, int rows) {
        var random = new SplittableRandom(len);
        var cache = new KvCache(c, len, type);
        cache.reserve(len);
        float[] row = new float[2 * c.kvSize()];
        for (int p = 0; p < len; p++) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
            cache.store(0, p, row, 0, c.kvSize());
        }
        cache.advance(len - rows);
        float[] qkv = new float[rows * c.qkvSize()];
        for (int i = 0; i < qkv.length; i++) {
            qkv[i] = (float) random.nextGaussian();
        }
        float[] out = new float[rows * c.numHeads() * c.headDim()];
        var segments = new Attention.Segment[]{new Attention.Segment(cache, 0, rows, len - rows)};
        // enough repetitions for about a second of work after the warm-up
        long start = System.nanoTime();
        int warm = 0;
        while (warm < 3 || System.nanoTime() - start < 300_000_000L) {
            Attention.run(c, 0, segments, qkv, out, pool);
            warm++;
        }
        int reps = Math.max(5, Math.min(200, warm * 3));
        double[] seconds = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = clock(pool);
            Attention.run(c, 0, segments, qkv, out, pool);
            seconds[r] = (clock(pool) - t0) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[reps / 2];
    }

    /**
     * With one thread everything runs on the caller, so its CPU time is the cost without the time other
     * processes on a shared machine take from it; with more threads only wall time says how long a step took.
     */
    private static long clock(Parallel pool) {
        return pool.threads() == 1 ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private static String arg(String[] args, int i, String fallback) {
        return args.length > i ? args[i] : fallback;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
