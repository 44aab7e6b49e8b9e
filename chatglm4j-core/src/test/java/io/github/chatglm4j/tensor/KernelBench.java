package io.github.chatglm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Throughput benchmark for the weight kernels (a main class, not a unit test). Run from {@code chatglm4j-core}
 * after {@code mvn -q -B -o -pl chatglm4j-core test-compile}:
 *
 * <pre>
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *     io.github.chatglm4j.tensor.KernelBench [types=Q4_0,Q8_0,F16] [threads=1,2] [mode=kernels|model] [n=1,2,4,8,128,512] [regroup=true] [attempts=4] [clock=cpu] [shape=RxC] [copies=N]
 * </pre>
 *
 * {@code regroup=true} measures Q4_0 in the layout the engine repacks it to at load.
 * {@code mode=kernels} (default) measures a 13696x4096 and a 4096x13696 mat-vec (the ChatGLM3 FFN shapes) and
 * the 13696x4096 product with {@code n} tokens; {@code mode=model} measures every matrix shape of chatglm3-6b
 * (mat-vec and the product with the largest {@code n}) and prints the implied milliseconds per token for the
 * whole model. Weights are cycled through copies so that the 32 MiB L3 cannot hold them, results are medians over
 * the timed runs, and every kernel's output is checked on a sample against a double-precision reference. The
 * machine is shared: the load average and the CPU share of other processes are printed; numbers taken under load
 * are not meaningful.
 */
public final class KernelBench {

    /** chatglm3-6b per layer: query_key_value, dense, dense_h_to_4h, dense_4h_to_h; then the output layer. */
    private static final int[][] MODEL_SHAPES = {{4608, 4096}, {4096, 4096}, {27392, 4096}, {4096, 13696}, {65024, 4096}};
    private static final int LAYERS = 28;
    /** Other processes' share of the machine's CPU above which a measurement is repeated. */
    private static final double CONTENDED_PERCENT = 10;
    private static int attempts = 4;
    /**
     * clock=cpu (threads=1 only): the calling thread's CPU time instead of wall time, for comparing compute-bound
     * kernels on a busy machine (time the thread is descheduled does not count; cache and memory sharing still do).
     */
    private static boolean cpuClock;
    /** shape=RxC: measure this shape only (kernels mode), copies=N: cycle N copies (1: cache-resident). */
    private static int[] shape = {13696, 4096};
    private static int copyCount;
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private KernelBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("arguments are key=value, got " + arg);
            }
            opts.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        List<TensorType> types = Arrays.stream(opts.getOrDefault("types", "F16").split(",")).map(TensorType::valueOf).toList();
        int[] threadCounts = ints(opts.getOrDefault("threads", "1,2"));
        int[] ns = ints(opts.getOrDefault("n", "1,2,4,8,128,512"));
        String mode = opts.getOrDefault("mode", "kernels");
        regroup = Boolean.parseBoolean(opts.getOrDefault("regroup", "false"));
        attempts = Integer.parseInt(opts.getOrDefault("attempts", "4"));
        cpuClock = opts.getOrDefault("clock", "wall").equals("cpu");
        if (opts.containsKey("shape")) {
            shape = Arrays.stream(opts.get("shape").split("x")).mapToInt(Integer::parseInt).toArray();
        }
        copyCount = Integer.parseInt(opts.getOrDefault("copies", "0"));
        System.out.printf("vectors: %s%n", VectorWidth.describe());
        System.out.printf("load average %s%n", loadAverage());
        for (TensorType type : types) {
            for (int threads : threadCounts) {
                try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(threads)) {
                    bandwidth(arena, pool);
                    if (mode.equals("model")) {
                        model(arena, type, pool, Arrays.stream(ns).max().orElse(512));
                    } else {
                        kernels(arena, type, pool, ns);
                    }
                }
            }
        }
        System.out.printf("load average %s%n", loadAverage());
    }

    /**
     * Read bandwidth of a 512 MiB native buffer with this pool (4 float accumulators per thread), printed so that
     * runs on a machine whose memory bandwidth varies with host load can be compared: a memory-bound kernel's time
     * scales with it.
     */
    private static void bandwidth(Arena arena, Parallel pool) {
        long bytes = 512L << 20;
        MemorySegment data = arena.allocate(bytes, 64);
        data.fill((byte) 0x3F); // floats of about 0.75
        int chunks = (int) (bytes / (1 << 16));
        double[] sink = new double[1];
        double best = 0;
        List<Double> rates = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            long start = System.nanoTime();
            pool.forRange(chunks, (c0, c1) -> {
                jdk.incubator.vector.FloatVector s0 = jdk.incubator.vector.FloatVector.zero(Decode.F), s1 = s0, s2 = s0, s3 = s0;
                for (long o = (long) c0 << 16; o < (long) c1 << 16; o += 128) {
                    s0 = s0.add(jdk.incubator.vector.FloatVector.fromMemorySegment(Decode.F, data, o, Decode.LE));
                    s1 = s1.add(jdk.incubator.vector.FloatVector.fromMemorySegment(Decode.F, data, o + 32, Decode.LE));
                    s2 = s2.add(jdk.incubator.vector.FloatVector.fromMemorySegment(Decode.F, data, o + 64, Decode.LE));
                    s3 = s3.add(jdk.incubator.vector.FloatVector.fromMemorySegment(Decode.F, data, o + 96, Decode.LE));
                }
                float sum = s0.add(s1).add(s2.add(s3)).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
                synchronized (sink) {
                    sink[0] += sum;
                }
            });
            double rate = bytes / ((System.nanoTime() - start) / 1e9) / 1e9;
            if (i >= 2) {
                rates.add(rate);
            }
            best = Math.max(best, rate);
        }
        double median = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray()[rates.size() / 2];
        System.out.printf(Locale.ROOT, "memory read, threads=%d: median %.1f GB/s, best %.1f GB/s (checksum %.0f)%n", pool.threads(), median, best, sink[0]);
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static void kernels(Arena arena, TensorType type, Parallel pool, int[] ns) {
        WeightMatrix[] tall = copies(arena, type, shape[0], shape[1]);
        measure(tall, 1, pool, 2.5);
        if (shape[0] == 13696) {
            measure(copies(arena, type, 4096, rowLength(type, 13696)), 1, pool, 2.5);
        }
        for (int n : ns) {
            if (n > 1) {
                measure(tall, n, pool, 2.5);
            }
        }
    }

    /**
     * Rows of 13696 are not whole K-quant blocks (256): llama.cpp then stores dense_4h_to_h as Q5_0 or Q8_0; the
     * kernels mode rounds the width up to 13824 instead, the model mode uses Q5_0 for that matrix.
     */
    private static int rowLength(TensorType type, int cols) {
        return (cols + type.blockSize() - 1) / type.blockSize() * type.blockSize();
    }

    private static void model(Arena arena, TensorType type, Parallel pool, int n) {
        double decode = 0;
        double prefill = 0;
        for (int s = 0; s < MODEL_SHAPES.length; s++) {
            int cols = MODEL_SHAPES[s][1];
            TensorType t = cols % type.blockSize() == 0 ? type : TensorType.Q5_0;
            WeightMatrix[] w = copies(arena, t, MODEL_SHAPES[s][0], cols);
            double mv = measure(w, 1, pool, 2.0);
            boolean output = s == MODEL_SHAPES.length - 1;
            // a prompt needs the logits of its last token only: one mat-vec of the output layer
            double mm = output ? mv : measure(w, n, pool, 3.0);
            decode += (output ? 1 : LAYERS) * mv;
            prefill += (output ? 1 : LAYERS) * mm;
        }
        System.out.printf(Locale.ROOT, "model %s threads=%d: decode %.1f ms/token (%.2f tokens/s); prefill n=%d %.1f ms/token (%.2f tokens/s) "
                        + "[weight matrices only]%n",
                type, pool.threads(), decode, 1000 / decode, n, prefill / n, 1000 * n / prefill);
    }

    /**
     * Median milliseconds of {@code w.matmul} with {@code n} tokens (mat-vec for n = 1). A measurement during which
     * other processes used more than {@link #CONTENDED_PERCENT}% of the machine's CPU is repeated (after waiting up
     * to a minute for the machine to calm down), at most {@code attempts} times; the printed line says how many
     * attempts it took and flags a result that never ran alone.
     */
    private static double measure(WeightMatrix[] copies, int n, Parallel pool, double seconds) {
        WeightMatrix w0 = copies[0];
        float[] x = ReferenceMath.randomFloats(n * w0.cols(), new Random(2));
        float[] out = new float[n * w0.rows()];
        double median = 0;
        double others = 0;
        double[] sorted = {};
        int attempt = 1;
        for (; attempt <= attempts; attempt++) {
            if (attempt > 1) {
                CpuShare.waitForQuiet(60);
            }
            List<Double> ms = new ArrayList<>();
            CpuShare share = null;
            long warmEnd = System.nanoTime() + (long) (seconds / 2 * 1e9);
            long end = Long.MAX_VALUE;
            for (int i = 0; ; i++) {
                WeightMatrix w = copies[i % copies.length];
                long start = System.nanoTime();
                long cpuStart = cpuClock ? THREADS.getCurrentThreadCpuTime() : 0;
                if (n == 1) {
                    w.matvec(x, out, pool);
                } else {
                    w.matmul(x, n, out, pool);
                }
                long stop = System.nanoTime();
                long cpu = cpuClock ? THREADS.getCurrentThreadCpuTime() - cpuStart : 0;
                if (share == null && stop > warmEnd && i >= 3) {
                    share = CpuShare.start();
                    end = stop + (long) (seconds * 1e9);
                } else if (share != null) {
                    ms.add((cpuClock ? cpu : stop - start) / 1e6);
                    if ((stop > end && ms.size() >= 5) || ms.size() >= 400) {
                        check(copies[i % copies.length], x, n, out);
                        break;
                    }
                }
            }
            sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            median = sorted[sorted.length / 2];
            others = share.othersPercent();
            if (others <= CONTENDED_PERCENT) {
                break;
            }
        }
        double flops = 2.0 * w0.rows() * w0.cols() * n;
        System.out.printf(Locale.ROOT, "%-7s %5dx%-5d n=%-3d threads=%d  median %8.3f ms (min %8.3f, %3d runs)  %5.1f GB/s  %6.1f GFLOP/s  %7.3f ms/token  [others %.0f%% CPU%s]%n",
                w0.type(), w0.rows(), w0.cols(), n, pool.threads(), median, sorted[0], sorted.length,
                w0.data().byteSize() / median / 1e6, flops / median / 1e6, median / n, others,
                others > CONTENDED_PERCENT ? ", CONTENDED" : attempt > 1 ? ", attempt " + attempt : "");
        return median;
    }

    /** Enough copies of one random matrix that together they exceed the L3 cache several times. */
    /** regroup=true: Q4_0 matrices in the layout the engine repacks them to at load ({@link WeightMatrix#regroup}). */
    private static boolean regroup;
    /** Regrouped copy to its ggml-layout original, which {@link #check} decodes with the oracle. */
    private static final Map<WeightMatrix, WeightMatrix> ORIGINAL = new java.util.IdentityHashMap<>();

    private static WeightMatrix[] copies(Arena arena, TensorType type, int rows, int cols) {
        MemorySegment first = QuantReference.randomBlocks(arena, type, (long) rows * cols, new Random(1));
        int count = copyCount > 0 ? copyCount : (int) Math.max(2, Math.min(12, (200L << 20) / first.byteSize() + 1));
        WeightMatrix[] copies = new WeightMatrix[count];
        for (int i = 0; i < count; i++) {
            MemorySegment data = i == 0 ? first : arena.allocate(first.byteSize(), 64).copyFrom(first);
            copies[i] = new WeightMatrix(data, type, rows, cols);
            if (regroup && copies[i].canRegroup()) {
                WeightMatrix original = copies[i];
                copies[i] = original.regroup(arena.allocate(data.byteSize(), 64), null);
                ORIGINAL.put(copies[i], original);
            }
        }
        return copies;
    }

    /**
     * Checks 64 sampled outputs against the double-precision product of the oracle-decoded weights with the exact
     * activations, allowing float rounding (1e-5 of sum |w x|) plus the int8 activation error bound
     * sum |w| * d/2 (d = the block's activation step), which covers both the float and the int8 paths.
     */
    private static void check(WeightMatrix regrouped, float[] x, int n, float[] out) {
        WeightMatrix w = ORIGINAL.getOrDefault(regrouped, regrouped);
        Random random = new Random(4);
        for (int k = 0; k < 64; k++) {
            int t = random.nextInt(n);
            int r = random.nextInt(w.rows());
            double sum = 0;
            double magnitude = 0;
            double quantBound = 0;
            for (int c = 0; c < w.cols(); c++) {
                double wv = QuantReference.value(w.data(), w.type(), (long) r * w.cols() + c);
                double product = wv * x[t * w.cols() + c];
                sum += product;
                magnitude += Math.abs(product);
                if (w.type().isQuantized()) {
                    quantBound += Math.abs(wv) * QuantReference.activationStep(x, t * w.cols(), c) * 0.5001;
                }
            }
            double error = Math.abs(out[t * w.rows() + r] - sum);
            if (error > 1e-5 * magnitude + quantBound) {
                throw new AssertionError("kernel output differs from the reference: " + w + " token " + t + " row " + r
                        + " error " + error + " allowed " + (1e-5 * magnitude + quantBound));
            }
        }
    }

    /** CPU used by other processes (machine total minus this JVM) while a measurement ran, from /proc. */
    private record CpuShare(long total, long busy, long own) {
        static CpuShare start() {
            long[] machine = machine();
            return new CpuShare(machine[0], machine[1], ownJiffies());
        }

        double othersPercent() {
            long[] machine = machine();
            long elapsed = machine[0] - total;
            long othersBusy = machine[1] - busy - (ownJiffies() - own);
            return elapsed <= 0 ? Double.NaN : Math.max(0, 100.0 * othersBusy / elapsed);
        }

        /** Waits until the machine is below 10% busy over 2 s, at most {@code seconds}. */
        static void waitForQuiet(int seconds) {
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                long[] a = machine();
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                long[] b = machine();
                if (b[0] > a[0] && 100.0 * (b[1] - a[1]) / (b[0] - a[0]) < 10) {
                    return;
                }
            }
        }

        /** {total, busy} jiffies over all CPUs. */
        private static long[] machine() {
            try {
                String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length; i++) {
                    total += Long.parseLong(f[i]);
                }
                long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                return new long[] {total, total - idle};
            } catch (Exception e) {
                return new long[] {0, 0};
            }
        }

        /** utime + stime of this process in jiffies. */
        private static long ownJiffies() {
            try {
                String stat = Files.readString(Path.of("/proc/self/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (Exception e) {
                return 0;
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
