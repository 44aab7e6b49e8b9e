package io.github.chatglm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.generate.BatchRequest;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.generate.Ticket;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.tensor.StepProfile;
import io.github.chatglm4j.tensor.VectorWidth;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code chatglm bench}: llama-bench style throughput. "ppN" feeds N random prompt tokens in one prefill; "tgN"
 * generates N tokens one at a time from an empty cache. With {@code --streams S} a "tgN" test also runs S
 * sequences decoding together through the continuous-batching scheduler (what the server does) and reports their
 * aggregate tokens/s. Each test runs {@code -r} times; the table shows the mean tokens/s and its standard deviation
 * over the runs.
 */
@Command(name = "bench", sortOptions = false,
        description = {"Measure prompt processing (ppN) and token generation (tgN) speed, like llama-bench.",
                "Prints the load time, the peak resident memory (VmHWM) and one table row per test; with --json, "
                        + "one JSON object per test on stdout and the rest on stderr."})
final class BenchCommand implements Callable<Integer> {
    private final Io io;

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = {"-p", "--n-prompt"}, paramLabel = "N", split = ",", defaultValue = "512",
            description = "Prompt lengths to test, comma separated (0: none). Default: ${DEFAULT-VALUE}.")
    int[] prompts;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", split = ",", defaultValue = "128",
            description = "Generation lengths to test, comma separated (0: none). Default: ${DEFAULT-VALUE}.")
    int[] generations;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", defaultValue = "3",
            description = "Runs of each test. Default: ${DEFAULT-VALUE}.")
    int repetitions;

    @Option(names = {"-s", "--streams"}, paramLabel = "N", split = ",", defaultValue = "1",
            description = "Concurrent decoding streams for the tgN tests, comma separated, e.g. 1,2,4,8: more than 1 "
                    + "runs them through the batching scheduler and reports aggregate tokens/s. Default: ${DEFAULT-VALUE}.")
    int[] streams;

    @Option(names = "--no-warmup", description = "Skip the short untimed run before the tests.")
    boolean noWarmup;

    @Option(names = "--json", description = "One JSON object per test on stdout.")
    boolean json;

    /** The KV cache type and its size at the context, for the JSON lines. */
    private String kvType;
    private long kvBytes;

    BenchCommand(Io io) {
        this.io = io;
    }

    /**
     * @param tokens    tokens the engine actually processed in each run (prompt tokens, or generated tokens of all streams)
     * @param cpuTokensPerSecond per run, tokens per second of the engine's threads' CPU time divided by the thread
     *                  count: what the run would give if no other process took a core (the machine may be shared)
     */
    record Result(String test, int nPrompt, int nGen, int streams, int threads, String type, long tokens, double[] tokensPerSecond,
                  double[] cpuTokensPerSecond) {
        double mean() {
            return Arrays.stream(tokensPerSecond).average().orElse(0);
        }

        double cpuMedian() {
            double[] v = cpuTokensPerSecond.clone();
            Arrays.sort(v);
            return v.length == 0 ? 0 : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }

        /** Sample standard deviation over the runs (0 for one run). */
        double stddev() {
            int n = tokensPerSecond.length;
            if (n < 2) {
                return 0;
            }
            double m = mean();
            double ss = Arrays.stream(tokensPerSecond).map(v -> (v - m) * (v - m)).sum();
            return Math.sqrt(ss / (n - 1));
        }
    }

    @Override
    public Integer call() {
        int maxPrompt = check(prompts, "--n-prompt");
        int maxGen = check(generations, "--n-gen");
        if (Arrays.stream(streams).anyMatch(v -> v < 1)) {
            throw new ParameterException(spec.commandLine(), "--streams values must be at least 1");
        }
        if (repetitions < 1) {
            throw new ParameterException(spec.commandLine(), "--repetitions must be at least 1, got " + repetitions);
        }
        if (maxPrompt == 0 && maxGen == 0) {
            throw new ParameterException(spec.commandLine(), "nothing to measure: -p and -n are both 0");
        }
        int needed = Math.max(Math.max(maxPrompt, maxGen), 9) + 1;
        if (model.contextSize != null && model.contextSize < needed) {
            throw new ParameterException(spec.commandLine(), "--ctx " + model.contextSize + " is too small for the tests (" + needed + " needed)");
        }
        PrintStream info = json ? io.err() : io.out();
        long t0 = System.nanoTime();
        int maxStreams = Arrays.stream(streams).max().orElse(1);
        try (ChatGLM glm = model.load(io, model.loadOptions(needed).withParallel(maxStreams).withQueue(0))) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            long rssAfterLoad = peakRss();
            String type = glm.model().weights().typeLabel();
            kvType = glm.model().kvType().label();
            kvBytes = glm.model().kvType().bytes(glm.config(), glm.contextSize());
            var c = glm.config();
            info.println(String.format(Locale.ROOT, "model: %s (%d layers, hidden %d), %s weights %s, %d threads",
                    glm.location(), c.numLayers(), c.hiddenSize(), type, ProgressBar.bytes(glm.model().weights().matrixBytes()), glm.threads()));
            info.println(String.format(Locale.ROOT, "load: %.2f s, peak RSS %s, %s at %d tokens", loadSeconds, rss(rssAfterLoad),
                    ModelOptions.kvCacheSummary(glm), glm.contextSize()));
            info.println("kernels: " + VectorWidth.describe());
            if (!json) {
                info.println();
                info.println("| test     | streams |            tokens/s | threads | type       | CPU-time tokens/s |");
                info.println("| -------- | ------- | ------------------- | ------- | ---------- | ----------------- |");
            }
            info.flush();
            var seq = new RawSequence(glm.model(), glm.contextSize());
            var random = new SplittableRandom(42);
            if (!noWarmup) {
                seq.feed(randomIds(random, 8));
                seq.feed(randomIds(random, 1));
            }
            for (int p : prompts) {
                if (p > 0) {
                    StepProfile.reset();
                    report(measure(glm, seq, random, p, 0, type), loadSeconds);
                    printProfile(info, "pp" + p, repetitions);
                }
            }
            for (int n : generations) {
                if (n > 0) {
                    for (int st : streams) {
                        StepProfile.reset();
                        report(st == 1 ? measure(glm, seq, random, 0, n, type) : measureStreams(glm, random, n, st, type), loadSeconds);
                        printProfile(info, "tg" + n + " x " + st + " streams", (long) n * repetitions);
                    }
                }
            }
            info.println((json ? "" : "\n") + "peak RSS " + rss(peakRss()));
            info.flush();
        }
        return 0;
    }

    /**
     * The model alone, as llama-bench measures it: tokens fed through a KV cache, logits of the last one computed,
     * nothing sampled.
     */
    private static final class RawSequence {
        private final ChatGLMModel model;
        private final KvCache cache;
        private final ChatGLMModel.Workspace workspace;

        RawSequence(ChatGLMModel model, int contextSize) {
            this.model = model;
            this.cache = model.newCache(contextSize);
            this.workspace = model.newWorkspace();
        }

        void reset() {
            cache.truncate(0);
        }

        void feed(int[] ids) {
            model.logits(model.feed(cache, ids, workspace), 0);
        }
    }

    private Result measure(ChatGLM glm, RawSequence seq, SplittableRandom random, int nPrompt, int nGen, String type) {
        double[] tps = new double[repetitions];
        double[] cpu = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            int[] ids = randomIds(random, nPrompt > 0 ? nPrompt : nGen);
            seq.reset();
            long cpu0 = engineCpuNanos();
            long start = System.nanoTime();
            if (nPrompt > 0) {
                seq.feed(ids);
            } else {
                for (int id : ids) {
                    seq.feed(new int[]{id});
                }
            }
            tps[r] = ids.length * 1e9 / (System.nanoTime() - start);
            cpu[r] = ids.length * 1e9 * glm.threads() / (engineCpuNanos() - cpu0);
        }
        return new Result(nPrompt > 0 ? "pp" + nPrompt : "tg" + nGen, nPrompt, nGen, 1, glm.threads(), type,
                nPrompt > 0 ? nPrompt : nGen, tps, cpu);
    }

    /** {@code streams} requests of {@code nGen} tokens each, decoded together by the model's scheduler. */
    private Result measureStreams(ChatGLM glm, SplittableRandom random, int nGen, int streams, String type) {
        double[] tps = new double[repetitions];
        double[] cpu = new double[repetitions];
        // No stop ids, so that every stream generates exactly nGen tokens.
        var options = new GenerationOptions(SamplingParams.greedy(), nGen, new int[0], List.of(), null);
        BatchScheduler scheduler = glm.scheduler();
        long tokens = 0;
        for (int r = 0; r < repetitions; r++) {
            long cpu0 = engineCpuNanos();
            long start = System.nanoTime();
            List<Ticket> tickets = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                tickets.add(scheduler.submit(new BatchRequest(randomIds(random, 1), options), TokenListener.NONE));
            }
            tokens = 0;
            for (Ticket t : tickets) {
                tokens += t.result().join().ids().length;
            }
            tps[r] = tokens * 1e9 / (System.nanoTime() - start);
            cpu[r] = tokens * 1e9 * glm.threads() / (engineCpuNanos() - cpu0);
        }
        return new Result("tg" + nGen, 0, nGen, streams, glm.threads(), type, tokens, tps, cpu);
    }

    /** With -Dchatglm4j.profile=true: the phases of the test just run, in ms per step ({@code steps} of them). */
    private static void printProfile(PrintStream info, String test, long steps) {
        if (!StepProfile.ENABLED) {
            return;
        }
        info.println(String.format(Locale.ROOT, "  profile of %s, ms per step (%d steps; wall time of the driving thread):", test, steps));
        StepProfile.snapshot().forEach((phase, v) -> info.println(String.format(Locale.ROOT, "    %-40s %9.2f ms  (%d calls)",
                phase, v[0] / 1e6 / steps, v[1])));
        info.flush();
    }

    private void report(Result r, double loadSeconds) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("test", r.test());
            line.put("n_prompt", r.nPrompt());
            line.put("n_gen", r.nGen());
            line.put("streams", r.streams());
            line.put("threads", r.threads());
            line.put("vector_bits", VectorWidth.bits());
            line.put("type", r.type());
            line.put("kv_type", kvType);
            line.put("kv_cache_bytes", kvBytes);
            line.put("repetitions", r.tokensPerSecond().length);
            line.put("tokens", r.tokens());
            line.put("tokens_per_second", round(r.mean()));
            line.put("stddev", round(r.stddev()));
            line.put("cpu_tokens_per_second", round(r.cpuMedian()));
            line.put("load_seconds", round(loadSeconds));
            line.put("peak_rss_bytes", peakRss());
            try {
                io.out().println(new ObjectMapper().writeValueAsString(line));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        } else {
            io.out().println(String.format(Locale.ROOT, "| %-8s | %7d | %19s | %7d | %-10s | %17.2f |", r.test(), r.streams(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.stddev()), r.threads(), r.type(), r.cpuMedian()));
        }
        io.out().flush();
    }

    private int check(int[] lengths, String option) {
        int max = 0;
        for (int v : lengths) {
            if (v < 0) {
                throw new ParameterException(spec.commandLine(), option + " values must be 0 or more, got " + v);
            }
            max = Math.max(max, v);
        }
        return max;
    }

    /** Ordinary text pieces: no control or special tokens. */
    private static int[] randomIds(SplittableRandom random, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(3, ChatGLMTokenizer.SENTENCEPIECE_SIZE);
        }
        return ids;
    }

    /**
     * CPU time of every Java thread of this process (the caller, the scheduler, the pool's workers; not the JIT
     * compiler or GC threads): the engine's threads park when idle, so this is the time they computed.
     */
    private static long engineCpuNanos() {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            sum += Math.max(0, t);
        }
        return sum;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** Peak resident set size in bytes from /proc/self/status (VmHWM), or -1 where there is no such file. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    private static String rss(long bytes) {
        return bytes < 0 ? "unknown (no /proc/self/status)" : ProgressBar.bytes(bytes);
    }
}
