package io.github.chatglm4j.bench;

import com.sun.management.ThreadMXBean;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.checkpoint.FileType;
import io.github.chatglm4j.checkpoint.RandomGgufWriter;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.generate.Sampler;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Allocation and time of the per-token hot path outside the weight kernels: one decode pass of a 2-layer model of
 * chatglm3-6b's width (Q8_0), a 128-token prompt pass, and one sampling step over 65024 logits. Not a test: run
 * with {@code mvn -pl chatglm4j-core test-compile exec:java} or from an IDE, e.g.
 * {@code java -cp ... io.github.chatglm4j.bench.HotPathBench [model.gguf]} ({@code -Dfresh=true}: a new workspace per pass,
 * as before workspaces existed); prints numbers for docs/performance.md.
 */
public final class HotPathBench {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    public static void main(String[] args) throws Exception {
        Path file = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"), "chatglm4j-hotpath-2l.gguf");
        ChatGLMTokenizer tokenizer = ChatGLMTokenizer.load(Fixtures.root().resolve("tokenizer/tokenizer.model"));
        if (!Files.exists(file)) {
            ChatGLMConfig six = ChatGLMConfig.read(Fixtures.root().resolve("configs/chatglm3-6b/config.json"));
            ChatGLMConfig two = new ChatGLMConfig(2, six.hiddenSize(), six.ffnHiddenSize(), six.numHeads(), six.headDim(),
                    six.kvGroups(), six.vocabSize(), six.seqLength(), six.layerNormEps(), 1f);
            RandomGgufWriter.write(file, two, tokenizer, FileType.Q8_0, 1, 2, LoadProgress.NONE, false);
        }
        try (ChatGLM glm = ChatGLM.load(file, LoadOptions.defaults().withThreads(2).withContextSize(1024))) {
            ChatGLMModel model = glm.model();
            SplittableRandom random = new SplittableRandom(7);
            int[] prompt = random.ints(128, 100, 60000).toArray();
            KvCache cache = model.newCache(1024);
            // the scheduler's way: one workspace reused by every pass (before it existed, each pass allocated its own)
            ChatGLMModel.Workspace ws = Boolean.getBoolean("fresh") ? null : model.newWorkspace();
            for (int warm = 0; warm < 3; warm++) {
                cache.truncate(0);
                feed(model, cache, prompt, ws);
                for (int i = 0; i < 20; i++) {
                    decode(model, cache, random.nextInt(100, 60000), ws);
                }
            }
            cache.truncate(0);
            long a0 = allocated();
            long t0 = System.nanoTime();
            feed(model, cache, prompt, ws);
            long prefillBytes = allocated() - a0;
            double prefillMs = (System.nanoTime() - t0) / 1e6;
            int steps = 64;
            a0 = allocated();
            t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                decode(model, cache, random.nextInt(100, 60000), ws);
            }
            double stepMs = (System.nanoTime() - t0) / 1e6 / steps;
            long stepBytes = (allocated() - a0) / steps;

            float[] logits = new float[65024];
            int[] context = random.ints(1024, 0, 64000).toArray();
            String[] names = {"defaults (top-k 50, top-p 0.8)", "top-k off, top-p 0.8", "greedy + repetition 1.1"};
            SamplingParams[] params = {SamplingParams.DEFAULTS, SamplingParams.DEFAULTS.withTopK(0),
                    SamplingParams.greedy().withRepetitionPenalty(1.1f)};
            System.out.printf(Locale.ROOT, "cpu: %s%n", cpuFlags());
            System.out.printf(Locale.ROOT, "prompt pass, 128 tokens: %.1f ms, %.1f MB allocated%n", prefillMs, prefillBytes / 1e6);
            System.out.printf(Locale.ROOT, "decode pass, 1 token: %.2f ms, %.1f KB allocated%n", stepMs, stepBytes / 1e3);
            for (int p = 0; p < params.length; p++) {
                Sampler sampler = new Sampler(params[p]);
                int n = 400;
                long bytes = 0;
                long nanos = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < logits.length; j++) {
                        logits[j] = (float) (random.nextGaussian() * 3);
                    }
                    long b = allocated();
                    long t = System.nanoTime();
                    sampler.sample(logits, context, context.length, 512);
                    nanos += System.nanoTime() - t;
                    bytes += allocated() - b;
                    if (i == n / 2 - 1) {
                        bytes = 0;
                        nanos = 0;
                    }
                }
                System.out.printf(Locale.ROOT, "sample, %s: %.3f ms, %.1f KB allocated%n", names[p], nanos / 1e6 / (n / 2), bytes / 1e3 / (n / 2));
            }
        }
    }

    private static void feed(ChatGLMModel model, KvCache cache, int[] ids, ChatGLMModel.Workspace ws) {
        if (ws == null) {
            model.feed(cache, ids);
        } else {
            model.feed(cache, ids, ws);
        }
    }

    private static void decode(ChatGLMModel model, KvCache cache, int id, ChatGLMModel.Workspace ws) {
        if (ws == null) {
            model.decodeBatch(new KvCache[]{cache}, new int[]{id});
        } else {
            model.decodeBatch(new KvCache[]{cache}, new int[]{id}, ws);
        }
    }

    private static long allocated() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    static String cpuFlags() throws Exception {
        String info = Files.readString(Path.of("/proc/cpuinfo"));
        StringBuilder out = new StringBuilder();
        for (String f : new String[]{"avx2", "avx512f", "avx512_vnni"}) {
            if (info.matches("(?s).*\\b" + f + "\\b.*")) {
                out.append(out.isEmpty() ? "" : " ").append(f);
            }
        }
        return out.toString();
    }
}
