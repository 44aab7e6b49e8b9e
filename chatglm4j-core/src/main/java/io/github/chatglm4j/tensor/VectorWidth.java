package io.github.chatglm4j.tensor;

import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The vector width the wide kernels use, chosen once at start-up: 512 bits where the CPU has AVX-512 (the JVM's
 * preferred species is 512 bits), else 256 (AVX2). A kernel class reads {@link #BITS} into its {@code static final}
 * species, so C2 sees a constant and compiles only that path. {@code -Dchatglm4j.vector.bits=256|512} forces a
 * width: the tests run both paths on any machine (the Vector API computes a species wider than the hardware in
 * software: right, but many times slower, so only the native width is measured).
 *
 * <p>This class touches {@code jdk.incubator.vector} only after checking that the module is there, so that
 * {@link #hardwareWarning()} can explain a missing module or a CPU without 256-bit vectors instead of letting the
 * kernels crawl silently.
 */
public final class VectorWidth {

    /** 256 or 512. */
    static final int BITS = choose(System.getProperty("chatglm4j.vector.bits"), preferredBits());

    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private VectorWidth() {
    }

    /** The width the kernels run at: 256 or 512 bits. */
    public static int bits() {
        return BITS;
    }

    /** For start-up and benchmark lines: "512-bit vectors (AVX-512, preferred 512)". */
    public static String describe() {
        int preferred = preferredBits();
        String isa = preferred >= 512 ? "AVX-512" : preferred >= 256 ? "AVX2" : "no 256-bit vector unit";
        return String.format(Locale.ROOT, "%d-bit vectors (%s, JVM preferred %d)", BITS, isa, preferred);
    }

    /**
     * A warning when the Vector API would run in software (many times slower): the module
     * {@code jdk.incubator.vector} is not loaded, or the JVM's preferred vector size is below 256 bits (no AVX2,
     * or a JVM started with a smaller {@code -XX:MaxVectorSize}/{@code -XX:UseAVX}); empty when the kernels run
     * natively. Returned once per JVM ({@link #warnOnce}).
     */
    public static Optional<String> hardwareWarning() {
        if (!moduleLoaded()) {
            return Optional.of("the module jdk.incubator.vector is not loaded (start java with --add-modules "
                    + "jdk.incubator.vector): the kernels cannot run");
        }
        int preferred = preferredBits();
        if (preferred < 256) {
            return Optional.of("this CPU/JVM offers " + preferred + "-bit vectors, the kernels need 256 (AVX2): "
                    + "the Vector API will run them in software, many times slower");
        }
        if (BITS > preferred) {
            return Optional.of("chatglm4j.vector.bits=" + BITS + " is wider than this CPU's " + preferred
                    + "-bit vectors: the Vector API will run the kernels in software, many times slower");
        }
        return Optional.empty();
    }

    /** {@link #hardwareWarning()} the first time it is called in this JVM, empty afterwards. */
    public static Optional<String> warnOnce() {
        Optional<String> w = hardwareWarning();
        return w.isPresent() && WARNED.compareAndSet(false, true) ? w : Optional.empty();
    }

    static int choose(String forced, int preferred) {
        if (forced != null && !forced.isBlank()) {
            return switch (forced.strip()) {
                case "256" -> 256;
                case "512" -> 512;
                default -> throw new IllegalArgumentException("chatglm4j.vector.bits must be 256 or 512, got " + forced);
            };
        }
        return preferred >= 512 ? 512 : 256;
    }

    private static boolean moduleLoaded() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    private static int preferredBits() {
        return moduleLoaded() ? Preferred.BITS : 0;
    }

    /** Holder, loaded only when the module is present. */
    private static final class Preferred {
        static final int BITS = jdk.incubator.vector.VectorShape.preferredShape().vectorBitSize();
    }
}
