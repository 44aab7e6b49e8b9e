package io.github.chatglm4j.tensor;

import io.github.chatglm4j.testing.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParallelTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);

    record Chunk(int start, int end, Thread thread) {
    }

    @ParameterizedTest(name = "threads={0}")
    @ValueSource(ints = {1, 2, 3, 4})
    void runsEveryIndexExactlyOnceInBalancedContiguousChunks(int threads) {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(threads)) {
                assertThat(pool.threads()).isEqualTo(threads);
                for (int n : new int[] {0, 1, 2, 3, threads - 1, threads, threads + 1, 7, 100, 1001}) {
                    if (n < 0) {
                        continue;
                    }
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    List<Chunk> chunks = Collections.synchronizedList(new ArrayList<>());
                    pool.forRange(n, (start, end) -> {
                        chunks.add(new Chunk(start, end, Thread.currentThread()));
                        for (int i = start; i < end; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertThat(hits.get(i)).as("n=%d: times index %d ran", n, i).isEqualTo(1);
                    }
                    assertThat(chunks).as("n=%d: one non-empty chunk per thread at most", n).hasSize(Math.min(n, threads));
                    for (Chunk chunk : chunks) {
                        assertThat(chunk.end() - chunk.start()).as("n=%d: chunk %s size is balanced", n, chunk)
                                .isBetween(n / threads, (n + threads - 1) / threads);
                    }
                    assertThat(chunks.stream().map(Chunk::thread).distinct().count())
                            .as("n=%d: each chunk on its own thread", n).isEqualTo(chunks.size());
                    assertThat(chunks.stream().filter(c -> c.start() == 0).map(Chunk::thread).toList())
                            .as("n=%d: the caller runs the first chunk", n)
                            .allMatch(t -> n == 0 || t == Thread.currentThread());
                }
            }
        });
    }

    @Test
    void workersAreDaemonsThatParkWhenIdleAndStopOnClose() {
        assertTimeoutPreemptively(LIMIT, () -> {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            Parallel pool = Parallel.create(3);
            pool.forRange(3, (start, end) -> seen.add(Thread.currentThread()));
            seen.remove(Thread.currentThread());
            assertThat(seen).hasSize(2);
            for (Thread worker : seen) {
                assertThat(worker.isDaemon()).as("%s is a daemon", worker).isTrue();
                // parked, not spinning, once its chunk is done
                Await.until(worker + " parked", () -> worker.getState() == Thread.State.WAITING);
            }
            pool.close();
            for (Thread worker : seen) {
                assertThat(worker.isAlive()).as("%s after close", worker).isFalse();
            }
            pool.close(); // idempotent
            assertThatThrownBy(() -> pool.forRange(4, (s, e) -> { }))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        });
    }

    @Test
    void exceptionFromWorkerReachesCallerAfterAllChunksFinish() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(2)) {
                IllegalStateException boom = new IllegalStateException("boom");
                AtomicInteger finished = new AtomicInteger();
                assertThatThrownBy(() -> pool.forRange(2, (start, end) -> {
                    if (start == 1) {
                        throw boom;
                    }
                    finished.incrementAndGet();
                })).isSameAs(boom);
                assertThat(finished.get()).as("caller chunk finished before the rethrow").isEqualTo(1);

                AtomicIntegerArray hits = new AtomicIntegerArray(10);
                pool.forRange(10, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < 10; i++) {
                    assertThat(hits.get(i)).as("pool still usable after a failure: index %d", i).isEqualTo(1);
                }
            }
        });
    }

    @Test
    void callerExceptionWaitsForWorkersAndKeepsOthersAsSuppressed() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(3)) {
                CyclicBarrier allStarted = new CyclicBarrier(3);
                AtomicInteger workersDone = new AtomicInteger();
                Throwable thrown = null;
                try {
                    pool.forRange(3, (start, end) -> {
                        await(allStarted);
                        if (start == 0) {
                            throw new IllegalArgumentException("caller chunk");
                        }
                        if (start == 1) {
                            workersDone.incrementAndGet();
                            throw new UnsupportedOperationException("worker chunk");
                        }
                        workersDone.incrementAndGet();
                    });
                } catch (RuntimeException e) {
                    thrown = e;
                }
                assertThat(thrown).as("some chunk's exception is rethrown").isNotNull();
                assertThat(workersDone.get()).as("workers finished before the caller rethrew").isEqualTo(2);
                List<Throwable> all = new ArrayList<>(List.of(thrown.getSuppressed()));
                all.add(thrown);
                assertThat(all).extracting(Throwable::getMessage)
                        .containsExactlyInAnyOrder("caller chunk", "worker chunk");
            }
        });
    }

    @Test
    void nestedCallsRunInlineInsteadOfDeadlocking() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(2)) {
                AtomicIntegerArray hits = new AtomicIntegerArray(2 * 5);
                pool.forRange(2, (start, end) -> pool.forRange(5, (s, e) -> {
                    for (int i = s; i < e; i++) {
                        hits.incrementAndGet(start * 5 + i);
                    }
                }));
                for (int i = 0; i < 10; i++) {
                    assertThat(hits.get(i)).as("nested index %d", i).isEqualTo(1);
                }
            }
        });
    }

    @Test
    void concurrentCallersAreSerialized() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(2)) {
                int rounds = 2000;
                AtomicIntegerArray hits = new AtomicIntegerArray(2 * 64);
                Thread other = Thread.ofPlatform().start(() -> {
                    for (int k = 0; k < rounds; k++) {
                        pool.forRange(64, (s, e) -> {
                            for (int i = s; i < e; i++) {
                                hits.incrementAndGet(64 + i);
                            }
                        });
                    }
                });
                for (int k = 0; k < rounds; k++) {
                    pool.forRange(64, (s, e) -> {
                        for (int i = s; i < e; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                }
                other.join();
                for (int i = 0; i < 128; i++) {
                    assertThat(hits.get(i)).as("index %d", i).isEqualTo(rounds);
                }
            }
        });
    }

    @Test
    void interruptedCallerStillWaitsForAllChunksAndKeepsItsInterrupt() {
        assertTimeoutPreemptively(LIMIT, () -> {
            try (Parallel pool = Parallel.create(2)) {
                CyclicBarrier bothRunning = new CyclicBarrier(2);
                AtomicInteger done = new AtomicInteger();
                Thread.currentThread().interrupt();
                try {
                    pool.forRange(2, (start, end) -> {
                        if (start == 1) {
                            await(bothRunning);
                        } else {
                            boolean wasInterrupted = Thread.interrupted(); // let the caller reach the barrier
                            await(bothRunning);
                            if (wasInterrupted) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        done.incrementAndGet();
                    });
                    assertThat(done.get()).as("chunks finished when forRange returned").isEqualTo(2);
                    assertThat(Thread.currentThread().isInterrupted()).as("caller's interrupt status kept").isTrue();
                } finally {
                    Thread.interrupted();
                }
            }
        });
    }

    @Test
    void rejectsBadArguments() {
        assertThatThrownBy(() -> Parallel.create(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
        try (Parallel pool = Parallel.create(1)) {
            assertThatThrownBy(() -> pool.forRange(-1, (s, e) -> { }))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
