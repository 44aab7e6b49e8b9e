package io.github.chatglm4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed pool of platform threads that park when idle (no spinning).
 *
 * <p>Spinning workers collapse on a shared machine, so idle workers block in {@link LockSupport#park} and the
 * caller parks while it waits for them. The caller always runs the first chunk itself, so a pool of {@code t}
 * threads owns {@code t - 1} worker threads. Calls from different threads are serialized; a call made from
 * inside a body (or on a worker) runs inline on the calling thread instead of deadlocking.
 */
public final class Parallel implements AutoCloseable {

    /** The work of one {@link #forRange} call: handles the half-open index range {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private final Worker[] workers;
    private final ReentrantLock callLock = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Thread waiter;
    private volatile boolean closed;
    /** First failure of the current call; later ones are attached as suppressed. Guarded by {@code this}. */
    private Throwable failure;

    private Parallel(int threads) {
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            Thread thread = new WorkerThread(workers[i], "chatglm4j-parallel-" + (i + 1));
            thread.setDaemon(true);
            workers[i].thread = thread;
        }
        for (Worker worker : workers) {
            worker.thread.start();
        }
    }

    /** A pool using {@code threads} threads in total, the caller included; 1 runs everything on the caller. */
    public static Parallel create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        return new Parallel(threads);
    }

    /** Threads that share the work of one call, the caller included. */
    public int threads() {
        return workers.length + 1;
    }

    /** {@link #forRange(int, RangeBody)} on {@code pool}, or all of {@code [0, n)} on the caller if it is null. */
    public static void forRange(Parallel pool, int n, RangeBody body) {
        if (pool == null) {
            body.run(0, n);
        } else {
            pool.forRange(n, body);
        }
    }

    /**
     * Runs {@code body.run(start, end)} over {@code [0, n)} split in contiguous chunks, one per thread (the caller
     * runs the first chunk); empty chunks are skipped. Returns when every chunk has finished; if any chunk threw,
     * the first failure is rethrown here with the others attached as suppressed.
     */
    public void forRange(int n, RangeBody body) {
        if (n < 0) {
            throw new IllegalArgumentException("range size must not be negative, got " + n);
        }
        if (closed) {
            throw new IllegalStateException("the thread pool is closed");
        }
        if (n == 0) {
            return;
        }
        int chunks = Math.min(threads(), n);
        if (chunks == 1 || callLock.isHeldByCurrentThread() || Thread.currentThread() instanceof WorkerThread) {
            body.run(0, n);
            return;
        }
        callLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the thread pool is closed");
            }
            runSplit(n, chunks, body);
        } finally {
            callLock.unlock();
        }
    }

    private void runSplit(int n, int chunks, RangeBody body) {
        synchronized (this) {
            failure = null;
        }
        waiter = Thread.currentThread();
        pending.set(chunks - 1);
        for (int i = 1; i < chunks; i++) {
            Worker worker = workers[i - 1];
            worker.start = bound(n, chunks, i);
            worker.end = bound(n, chunks, i + 1);
            worker.body = body; // volatile write publishes start/end
            LockSupport.unpark(worker.thread);
        }
        try {
            body.run(0, bound(n, chunks, 1));
        } catch (Throwable t) {
            recordFailure(t);
        }
        // An interrupt would make park return at once and turn this wait into a spin: hold it until the end.
        boolean interrupted = false;
        while (pending.get() != 0) {
            LockSupport.park(this);
            interrupted |= Thread.interrupted();
        }
        waiter = null;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable thrown;
        synchronized (this) {
            thrown = failure;
            failure = null;
        }
        if (thrown instanceof RuntimeException e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        if (thrown != null) { // a checked exception smuggled through a body
            throw new IllegalStateException("a parallel task failed", thrown);
        }
    }

    /** Start of chunk {@code i} of {@code chunks} balanced chunks of {@code [0, n)}. */
    private static int bound(int n, int chunks, int i) {
        return (int) ((long) n * i / chunks);
    }

    private synchronized void recordFailure(Throwable t) {
        if (failure == null) {
            failure = t;
        } else if (failure != t) {
            failure.addSuppressed(t);
        }
    }

    /** Stops the worker threads; pending work of a concurrent call still completes first. Idempotent. */
    @Override
    public void close() {
        callLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            callLock.unlock();
        }
        for (Worker worker : workers) {
            LockSupport.unpark(worker.thread);
        }
        boolean interrupted = false;
        for (Worker worker : workers) {
            while (worker.thread.isAlive() && worker.thread != Thread.currentThread()) {
                try {
                    worker.thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marker so that nested calls from a worker run inline. */
    private static final class WorkerThread extends Thread {
        WorkerThread(Runnable task, String name) {
            super(task, name);
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        int start;
        int end;
        volatile RangeBody body;

        @Override
        public void run() {
            while (true) {
                RangeBody task = body;
                if (task == null) {
                    if (closed) {
                        return;
                    }
                    LockSupport.park(this);
                    continue;
                }
                body = null;
                try {
                    task.run(start, end);
                } catch (Throwable t) {
                    recordFailure(t);
                }
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(waiter);
                }
            }
        }
    }
}
