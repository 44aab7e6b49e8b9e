package io.github.chatglm4j.tensor;

import java.lang.foreign.Arena;

/**
 * What the kernel tests share per class: an arena for weights and pools of 2 and 3 threads ({@link #pool}(1) is null:
 * the caller runs the work itself, as a one-thread model does).
 */
final class TestPools implements AutoCloseable {
    final Arena arena = Arena.ofShared();
    private final Parallel pool2 = Parallel.create(2);
    private final Parallel pool3 = Parallel.create(3);

    /** No pool for 1 thread, else the pool of 2 or of 3 (for 3 and more). */
    Parallel pool(int threads) {
        return switch (threads) {
            case 1 -> null;
            case 2 -> pool2;
            default -> pool3;
        };
    }

    @Override
    public void close() {
        pool2.close();
        pool3.close();
        arena.close();
    }
}
