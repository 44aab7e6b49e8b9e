package io.github.chatglm4j.tensor;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where the time of model passes goes, by phase (matrix products by weight type and token count, attention, the
 * output layer, sampling, the scheduler's own work), when the JVM runs with {@code -Dchatglm4j.profile=true}
 * ({@code chatglm bench} then prints it after each test). Off by default: every hook is one test of a constant.
 *
 * <pre>{@code
 * long t0 = StepProfile.start();
 * ...work...
 * StepProfile.add("attention", t0);
 * }</pre>
 * Wall-clock nanoseconds of the thread that drives the model; phases may nest (the output layer's matrix product
 * is also counted under its type), so the lines do not add up to the total.
 */
public final class StepProfile {

    /** Whether phases are timed ({@code -Dchatglm4j.profile=true}). */
    public static final boolean ENABLED = Boolean.getBoolean("chatglm4j.profile");

    private static final Map<String, LongAdder> NANOS = new ConcurrentHashMap<>();
    private static final Map<String, LongAdder> CALLS = new ConcurrentHashMap<>();

    private StepProfile() {
    }

    /** A start time for {@link #add}, or 0 when profiling is off. */
    public static long start() {
        return ENABLED ? System.nanoTime() : 0;
    }

    /** Adds the time since {@code start} to {@code phase} (nothing when profiling is off). */
    public static void add(String phase, long start) {
        if (ENABLED) {
            long dt = System.nanoTime() - start;
            NANOS.computeIfAbsent(phase, k -> new LongAdder()).add(dt);
            CALLS.computeIfAbsent(phase, k -> new LongAdder()).increment();
        }
    }

    /** Phase name of a matrix product: type, layout, token count. */
    static String matmulPhase(TensorType type, boolean regrouped, int n) {
        return "matmul " + type + (regrouped ? " regrouped" : "") + " n=" + n;
    }

    /** The phases timed since the last {@link #reset}: name to {nanoseconds, calls}, sorted by name. */
    public static Map<String, long[]> snapshot() {
        Map<String, long[]> out = new TreeMap<>();
        NANOS.forEach((k, v) -> out.put(k, new long[]{v.sum(), CALLS.get(k).sum()}));
        return out;
    }

    public static void reset() {
        NANOS.clear();
        CALLS.clear();
    }
}
