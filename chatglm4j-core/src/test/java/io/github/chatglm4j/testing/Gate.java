package io.github.chatglm4j.testing;

import java.util.concurrent.CountDownLatch;

/**
 * Holds the thread that drives a model at a point of the test's choosing: {@link #hold()} closes the gate, the model
 * thread blocks in {@link #pass()}, {@link #awaitHeld()} returns once it is there, {@link #release()} lets it (and
 * every later call) through.
 */
public final class Gate {
    private volatile CountDownLatch gate;
    private volatile CountDownLatch entered = new CountDownLatch(1);

    public void hold() {
        entered = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    public void release() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    /** Returns once a call is waiting at the closed gate. */
    public void awaitHeld() throws InterruptedException {
        entered.await();
    }

    /** Called by the model thread: waits while the gate is closed. */
    public void pass() {
        CountDownLatch g = gate;
        if (g != null) {
            entered.countDown();
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
