package io.github.chatglm4j.tensor;
// PLACEHOLDER (replaced by wip-kernels)
public final class Parallel implements AutoCloseable {
    private final int threads;
    private Parallel(int t) { threads = t; }
    public static Parallel create(int threads) { return new Parallel(threads); }
    public int threads() { return threads; }
    public void forRange(int n, RangeBody body) { if (n > 0) body.run(0, n); }
    public interface RangeBody { void run(int start, int end); }
    public void close() {}
}
