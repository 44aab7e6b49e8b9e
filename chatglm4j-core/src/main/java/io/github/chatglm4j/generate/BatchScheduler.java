package io.github.chatglm4j.generate;

import io.github.chatglm4j.tensor.StepProfile;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The token loop of the engine, for the library, the CLI and the server alike (one request alone is a batch of
 * one). Continuous batching: up to {@code slots} requests generate at the same time, and every decode step advances
 * all of them by one token in one batched model pass. Requests join and leave between steps. Prompts are computed in
 * chunks interleaved with decode steps, so a long new prompt delays running streams by one chunk at a time instead
 * of its whole length. A finished slot keeps its tokens: a new request goes to the free slot sharing the longest
 * prefix with its prompt (a conversation's next turn only computes its new tokens).
 *
 * <p>One scheduler thread drives the model and decides, after every token, whether a request ends: stop id, stop
 * string, token limit, context size or cancellation ({@link GenerationOptions}). Listeners are called on that thread
 * and must not block; {@link TokenQueue} hands the text to the caller's thread instead.
 */
public final class BatchScheduler implements AutoCloseable {
    /** Prompt tokens computed between two decode steps while other requests are generating. */
    static final int PREFILL_CHUNK = 64;
    /** Prompt tokens computed at once when nobody waits for a decode step. */
    static final int PREFILL_CHUNK_ALONE = 512;

    private final StepModel model;
    private final ChatGLMTokenizer tokenizer;
    private final int queueCapacity;
    private final Slot[] slots;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Thread thread;
    private final Counters counters = new Counters();
    private volatile boolean closed;

    /**
     * Starts the scheduler thread.
     *
     * @param slots         sequences generated in parallel (each holds a KV cache of the model's context size)
     * @param queueCapacity requests that may wait for a slot; more are refused with {@link QueueFullException}
     */
    public BatchScheduler(StepModel model, ChatGLMTokenizer tokenizer, int slots, int queueCapacity) {
        if (slots < 1) {
            throw new IllegalArgumentException("need at least one slot, got " + slots);
        }
        if (queueCapacity < 0) {
            throw new IllegalArgumentException("queue capacity must be >= 0, got " + queueCapacity);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.queueCapacity = queueCapacity;
        this.slots = new Slot[slots];
        for (int i = 0; i < slots; i++) {
            this.slots[i] = new Slot(model.newSlot());
        }
        this.thread = Thread.ofPlatform().name("chatglm-scheduler").daemon().start(this::loop);
    }

    /** Most tokens (prompt + reply) one request can use. */
    public int contextSize() {
        return model.contextSize();
    }

    /**
     * Queues a request. The listener receives each generated token's text on the scheduler thread (text held
     * back by a possible stop string arrives with a later token, or with id -1 at the end).
     *
     * @throws ContextOverflowException if the prompt leaves no room to generate
     * @throws QueueFullException       if every slot is busy and the queue is full
     */
    public Ticket submit(BatchRequest request, TokenListener listener) {
        int[] prompt = request.prompt();
        if (prompt.length >= model.contextSize()) {
            throw new ContextOverflowException(prompt.length, model.contextSize());
        }
        Job job = new Job(request, listener, tokenizer);
        if (request.options().maxNewTokens() == 0) {
            job.finish(FinishReason.LENGTH, -1);
            return job;
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the scheduler is closed");
            }
            if (queue.size() - freeSlots() >= queueCapacity) {
                throw new QueueFullException(queueCapacity);
            }
            queue.addLast(job);
            wake.signal();
        } finally {
            lock.unlock();
        }
        return job;
    }

    /** A snapshot of the counters. */
    public SchedulerStats stats() {
        lock.lock();
        try {
            int running = 0;
            for (Slot s : slots) {
                if (s.job != null) {
                    running++;
                }
            }
            return counters.snapshot(slots.length, running, queue.size());
        } finally {
            lock.unlock();
        }
    }

    private int freeSlots() {
        int free = 0;
        for (Slot s : slots) {
            if (s.job == null) {
                free++;
            }
        }
        return free;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            wake.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (true) {
            if (!admit()) {
                break;
            }
            try {
                long t0 = StepProfile.start();
                step();
                StepProfile.add("scheduler step", t0);
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
        lock.lock();
        try {
            for (Job j : queue) {
                j.finish(FinishReason.CANCELLED, -1);
            }
            queue.clear();
        } finally {
            lock.unlock();
        }
        for (Slot s : slots) {
            if (s.job != null) {
                release(s, FinishReason.CANCELLED, -1);
            }
        }
    }

    /** Moves queued jobs into free slots; waits while there is nothing to do. False once closed. */
    private boolean admit() {
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    return false;
                }
                queue.removeIf(j -> {
                    if (j.isCancelled()) {
                        j.finish(FinishReason.CANCELLED, -1);
                        return true;
                    }
                    return false;
                });
                while (!queue.isEmpty()) {
                    Slot slot = bestFreeSlot(queue.peekFirst().prompt);
                    if (slot == null) {
                        break;
                    }
                    Job job = queue.pollFirst();
                    int reused = slot.assign(job);
                    counters.promptTokens += job.prompt.length;
                    counters.cachedPromptTokens += reused;
                }
                for (Slot s : slots) {
                    if (s.job != null) {
                        return true;
                    }
                }
                wake.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The free slot whose tokens share the longest prefix with {@code prompt}; ties go to the least recently used. */
    private Slot bestFreeSlot(int[] prompt) {
        Slot best = null;
        int bestCommon = -1;
        for (Slot s : slots) {
            if (s.job != null) {
                continue;
            }
            int common = s.commonPrefix(prompt);
            if (common > bestCommon || (common == bestCommon && s.lastUsed < best.lastUsed)) {
                best = s;
                bestCommon = common;
            }
        }
        return best;
    }

    /** Prompt chunks for slots still computing their prompts, then one decode step for all the others. */
    private void step() {
        for (Slot s : slots) {
            if (s.job != null && s.job.isCancelled()) {
                release(s, FinishReason.CANCELLED, -1);
            }
        }
        boolean othersDecoding = false;
        for (Slot s : slots) {
            othersDecoding |= s.job != null && !s.prefilling();
        }
        // Prompts get a token budget per step: small while other requests wait for their next token, large when
        // nobody waits. Several short prompts arriving together are all computed before the first decode step.
        int budget = othersDecoding ? PREFILL_CHUNK : PREFILL_CHUNK_ALONE;
        for (Slot s : slots) {
            if (budget <= 0) {
                break;
            }
            if (s.job != null && s.prefilling()) {
                int chunk = Math.min(budget, s.promptRemaining());
                budget -= chunk;
                long t0 = System.nanoTime();
                float[] logits = s.prefillChunk(model, chunk);
                long dt = System.nanoTime() - t0;
                s.job.prefillNanos += dt;
                counters.prefillNanos += dt;
                if (logits != null) {
                    consume(s, logits);
                }
            }
        }
        List<Slot> decoding = new ArrayList<>(slots.length);
        for (Slot s : slots) {
            if (s.job != null && !s.prefilling() && s.pending >= 0) {
                decoding.add(s);
            }
        }
        if (decoding.isEmpty()) {
            return;
        }
        StepModel.Slot[] batch = new StepModel.Slot[decoding.size()];
        int[] tokens = new int[batch.length];
        for (int i = 0; i < batch.length; i++) {
            Slot s = decoding.get(i);
            batch[i] = s.state;
            tokens[i] = s.pending;
        }
        long t0 = System.nanoTime();
        float[][] logits = model.decode(batch, tokens);
        long dt = System.nanoTime() - t0;
        counters.decodeNanos += dt;
        counters.decodeSteps++;
        StepProfile.add(StepProfile.ENABLED ? "decode step b=" + batch.length : null, t0);
        long t1 = StepProfile.start();
        for (int i = 0; i < batch.length; i++) {
            Slot s = decoding.get(i);
            s.fed(tokens[i]);
            s.job.decodeNanos += dt;
            consume(s, logits[i]);
        }
        StepProfile.add("sampling and streaming", t1);
    }

    /** Lets the job sample, stream and decide from {@code logits}; frees the slot if the job has ended. */
    private void consume(Slot s, float[] logits) {
        Job job = s.job;
        s.pending = -1;
        int before = job.generated();
        int next = job.advance(logits, model.contextSize());
        if (job.generated() > before) {
            counters.generatedTokens++;
            if (before == 0) {
                counters.firstTokenNanos += System.nanoTime() - job.submitted;
                counters.firstTokens++;
            }
        }
        if (next < 0) {
            release(s, job.ending, job.endingStopId);
        } else {
            s.pending = next;
        }
    }

    /** Frees the slot, then completes the job: whoever waits for the result sees the scheduler's books updated. */
    private void release(Slot s, FinishReason reason, int stopId) {
        Job job = s.job;
        counters.finished++;
        s.release();
        job.finish(reason, stopId);
    }

    private void failAll(Throwable e) {
        for (Slot s : slots) {
            if (s.job != null) {
                Job job = s.job;
                s.reset();
                counters.finished++;
                job.fail(e);
            }
        }
    }

    /** Written only by the scheduler thread; volatile so that monitoring threads see current values. */
    static final class Counters {
        volatile long finished;
        volatile long promptTokens;
        volatile long cachedPromptTokens;
        volatile long generatedTokens;
        volatile long decodeSteps;
        volatile long decodeNanos;
        volatile long prefillNanos;
        volatile long firstTokenNanos;
        volatile long firstTokens;

        SchedulerStats snapshot(int slots, int running, int waiting) {
            return new SchedulerStats(slots, running, waiting, finished, promptTokens, cachedPromptTokens,
                    generatedTokens, decodeSteps, decodeNanos / 1e9, prefillNanos / 1e9, firstTokenNanos / 1e9, firstTokens);
        }
    }
}
