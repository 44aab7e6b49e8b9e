package io.github.chatglm4j.agent.interpreter;

import java.util.ArrayList;
import java.util.List;

/**
 * A cancel request that can reach work which has not started yet: {@link #onCancel} runs its action at once if the
 * request came first, so there is no window in which a cancel is lost.
 *
 * <pre>{@code
 * var cancel = new Cancellation();
 * executor.submit(() -> python.run(code, cancel));
 * cancel.cancel();   // interrupts the cell, whether it is already running or about to start
 * }</pre>
 */
public final class Cancellation {
    /** Never cancelled. */
    public static final Cancellation NONE = new Cancellation();

    private final List<Runnable> actions = new ArrayList<>();
    private boolean cancelled;

    /** Cancels: runs every registered action once. */
    public void cancel() {
        if (this == NONE) {
            return;
        }
        List<Runnable> toRun;
        synchronized (this) {
            if (cancelled) {
                return;
            }
            cancelled = true;
            toRun = List.copyOf(actions);
            actions.clear();
        }
        toRun.forEach(Runnable::run);
    }

    public synchronized boolean isCancelled() {
        return cancelled;
    }

    /** Runs {@code action} on cancel, or now if already cancelled. Closing the result unregisters it. */
    public Registration onCancel(Runnable action) {
        synchronized (this) {
            if (!cancelled) {
                actions.add(action);
                return () -> {
                    synchronized (this) {
                        actions.remove(action);
                    }
                };
            }
        }
        action.run();
        return () -> { };
    }

    /** An action registered with {@link #onCancel}. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
