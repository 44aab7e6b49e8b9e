package io.github.chatglm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Throughput benchmark for the weight kernels (a main class, not a unit test). Run from {@code chatglm4j-core}
 * after {@code mvn -q -B -o -pl chatglm4j-core test-compile}:
 *
 * <pre>
 * $JAVA_HOME/bin/java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *     io.github.chatglm4j.tensor.KernelBench [F16|BF16|F32] [threads,...]
 * </pre>
 *
 * Measures a 13696x4096 mat-vec (the ChatGLM3 FFN shape) and a 4096x4096 matmul with n=128 tokens (prompt
 * prefill), cycling through copies of the matrix so that the 32 MiB L3 cannot hold the weights, and prints the
 * median over the timed runs with weight bandwidth and arithmetic rate. Every kernel's output is checked against
 * a double-precision reference on a sample. The machine is shared: the load average is printed before and after,
 * and numbers taken under load are not meaningful.
 */
public final class KernelBench {

    private KernelBench() {
    }

    public static void main(String[] args) throws Exception {
        TensorType type = args.length > 0 ? TensorType.valueOf(args[0]) : TensorType.F16;
        int[] threadCounts = args.length > 1
                ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 2};
        System.out.printf("type %s, load average %s%n", type, loadAverage());
        try (Arena arena = Arena.ofShared()) {
            for (int threads : threadCounts) {
                try (Parallel pool = Parallel.create(threads)) {
                    matvec(arena, type, pool);
                    matmul(arena, type, pool);
                }
            }
        }
        System.out.printf("load average %s%n", loadAverage());
    }

    private static void matvec(Arena arena, TensorType type, Parallel pool) {
        int rows = 13696;
        int cols = 4096;
        WeightMatrix[] copies = copies(arena, type, rows, cols, 3);
        float[] x = ReferenceMath.randomFloats(cols, new Random(2));
        float[] out = new float[rows];
        int warmup = 150;
        double[] ms = new double[150];
        CpuShare share = CpuShare.start();
        for (int i = 0; i < warmup + ms.length; i++) {
            WeightMatrix w = copies[i % copies.length];
            long start = System.nanoTime();
            w.matvec(x, out, pool);
            long end = System.nanoTime();
            if (i >= warmup) {
                ms[i - warmup] = (end - start) / 1e6;
            }
        }
        check(copies[(warmup + ms.length - 1) % copies.length], x, 1, out);
        report("matvec " + rows + "x" + cols, type, pool, share, ms, copies[0].data().byteSize(), 2.0 * rows * cols);
    }

    private static void matmul(Arena arena, TensorType type, Parallel pool) {
        int rows = 4096;
        int cols = 4096;
        int n = 128;
        WeightMatrix[] copies = copies(arena, type, rows, cols, 4);
        float[] x = ReferenceMath.randomFloats(n * cols, new Random(3));
        float[] out = new float[n * rows];
        int warmup = 12;
        double[] ms = new double[24];
        CpuShare share = CpuShare.start();
        for (int i = 0; i < warmup + ms.length; i++) {
            WeightMatrix w = copies[i % copies.length];
            long start = System.nanoTime();
            w.matmul(x, n, out, pool);
            long end = System.nanoTime();
            if (i >= warmup) {
                ms[i - warmup] = (end - start) / 1e6;
            }
        }
        check(copies[(warmup + ms.length - 1) % copies.length], x, n, out);
        report("matmul " + rows + "x" + cols + " n=" + n, type, pool, share, ms, copies[0].data().byteSize(), 2.0 * rows * cols * n);
    }

    private static WeightMatrix[] copies(Arena arena, TensorType type, int rows, int cols, int count) {
        MemorySegment first = realisticWeights(arena, type, (long) rows * cols);
        WeightMatrix[] copies = new WeightMatrix[count];
        for (int i = 0; i < count; i++) {
            MemorySegment data = i == 0 ? first : arena.allocate(first.byteSize(), 64).copyFrom(first);
            copies[i] = new WeightMatrix(data, type, rows, cols);
        }
        return copies;
    }

    /** Gaussian weights with the spread of a trained model's linear layers (std 0.02), rounded to the type. */
    private static MemorySegment realisticWeights(Arena arena, TensorType type, long count) {
        Random random = new Random(1);
        MemorySegment data = arena.allocate(count * ReferenceMath.elementBytes(type), 64);
        for (long i = 0; i < count; i++) {
            float value = (float) random.nextGaussian() * 0.02f;
            switch (type) {
                case F32 -> data.set(ReferenceMath.FLOAT_LE, 4 * i, value);
                case F16 -> data.set(ReferenceMath.SHORT_LE, 2 * i, Float.floatToFloat16(value));
                case BF16 -> data.set(ReferenceMath.SHORT_LE, 2 * i, (short) (Float.floatToRawIntBits(value) >>> 16));
            }
        }
        return data;
    }

    private static void check(WeightMatrix w, float[] x, int n, float[] out) {
        Random random = new Random(4);
        double worst = 0;
        for (int k = 0; k < 64; k++) {
            int t = random.nextInt(n);
            int r = random.nextInt(w.rows());
            double sum = 0;
            double magnitude = 0;
            for (int c = 0; c < w.cols(); c++) {
                double product = ReferenceMath.element(w.data(), w.type(), (long) r * w.cols() + c) * x[t * w.cols() + c];
                sum += product;
                magnitude += Math.abs(product);
            }
            worst = Math.max(worst, Math.abs(out[t * w.rows() + r] - sum) / magnitude);
        }
        if (worst > 1e-5) {
            throw new AssertionError("kernel output differs from the reference: relative error " + worst);
        }
    }

    private static void report(String what, TensorType type, Parallel pool, CpuShare share, double[] ms, long weightBytes,
            double flops) {
        double others = share.othersPercent();
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        System.out.printf("%-24s %s threads=%d  median %7.2f ms (min %7.2f)  %5.1f GB/s  %5.1f GFLOP/s  [other processes %.0f%% CPU]%n",
                what, type, pool.threads(), median, sorted[0], weightBytes / median / 1e6, flops / median / 1e6, others);
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
