package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A load benchmark, not a unit test (scripts/load-test.sh runs it against {@code chatglm serve}): N streaming clients
 * start at the same moment, each with one of a few prompts, greedy. It prints how many completed, got 503 (queue
 * full) or anything else, the p50/p99 latency of the completed ones, and whether every completed reply equals the
 * reply to the same prompt sent alone (batching must not change or mix up replies).
 *
 * <pre>java ... LoadBenchmark http://127.0.0.1:8000 100 32</pre>
 */
public final class LoadBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {
            "Tell me about the sea.", "What is 2 + 2?", "Write a haiku about autumn.", "Name three colours.",
            "你好，请介绍一下你自己。", "How do I sort a list in Python?", "What is the capital of France?", "Count from one to ten.",
            "Give me a recipe for pancakes.", "Why is the sky blue?"};

    private LoadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30)).build();

        List<String> alone = new ArrayList<>();
        for (String p : PROMPTS) {
            Result r = stream(http, base, p, maxTokens);
            if (r.status != 200) {
                throw new IllegalStateException("the reference request failed: " + r.status + " " + r.text);
            }
            alone.add(r.text);
        }

        var start = new CountDownLatch(1);
        var done = new CountDownLatch(clients);
        List<Result> results = Collections.synchronizedList(new ArrayList<>());
        var mismatches = new AtomicInteger();
        var others = new ConcurrentHashMap<Integer, AtomicInteger>();
        for (int i = 0; i < clients; i++) {
            int which = i % PROMPTS.length;
            Thread.ofVirtual().start(() -> {
                try {
                    start.await();
                    Result r = stream(http, base, PROMPTS[which], maxTokens);
                    results.add(r);
                    if (r.status == 200 && !r.text.equals(alone.get(which))) {
                        mismatches.incrementAndGet();
                        System.err.println("MISMATCH for prompt " + which + ":\n  alone:    " + alone.get(which) + "\n  together: " + r.text);
                    }
                } catch (Exception e) {
                    results.add(new Result(-1, e.toString(), 0));
                } finally {
                    done.countDown();
                }
            });
        }
        long t0 = System.nanoTime();
        start.countDown();
        done.await();
        double wall = (System.nanoTime() - t0) / 1e9;

        List<Double> latencies = new ArrayList<>();
        int completed = 0;
        int busy = 0;
        int other = 0;
        for (Result r : results) {
            if (r.status == 200) {
                completed++;
                latencies.add(r.seconds);
            } else if (r.status == 503) {
                busy++;
            } else {
                other++;
                others.computeIfAbsent(r.status, k -> new AtomicInteger()).incrementAndGet();
            }
        }
        Collections.sort(latencies);
        System.out.printf(Locale.ROOT, "clients %d, max_tokens %d, wall %.2f s%n", clients, maxTokens, wall);
        System.out.printf(Locale.ROOT, "completed %d, 503 %d, other %d %s%n", completed, busy, other, others.isEmpty() ? "" : others);
        System.out.printf(Locale.ROOT, "latency of completed: p50 %.2f s, p99 %.2f s, max %.2f s%n",
                percentile(latencies, 0.50), percentile(latencies, 0.99), latencies.isEmpty() ? 0 : latencies.getLast());
        System.out.printf(Locale.ROOT, "replies equal to the same prompt alone: %d of %d%s%n", completed - mismatches.get(), completed,
                mismatches.get() == 0 ? "" : "  <-- MISMATCHES");
        System.exit(mismatches.get() == 0 && other == 0 ? 0 : 1);
    }

    private record Result(int status, String text, double seconds) {
    }

    private static Result stream(HttpClient http, String base, String prompt, int maxTokens) throws Exception {
        String body = JSON.createObjectNode().put("stream", true).put("temperature", 0).put("max_tokens", maxTokens)
                .set("messages", JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user").put("content", prompt)))
                .toString();
        long t0 = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofLines());
        var text = new StringBuilder();
        boolean finished = false;
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            String data = line.substring(6);
            if (data.equals("[DONE]")) {
                finished = true;
                continue;
            }
            JsonNode chunk = JSON.readTree(data);
            if (r.statusCode() != 200 || chunk.has("error")) {
                return new Result(r.statusCode() == 200 ? 500 : r.statusCode(), data, 0);
            }
            JsonNode content = chunk.at("/choices/0/delta/content");
            if (content.isTextual()) {
                text.append(content.textValue());
            }
        }
        if (r.statusCode() == 200 && !finished) {
            return new Result(-2, "stream ended without [DONE]", 0);
        }
        return new Result(r.statusCode(), text.toString(), (System.nanoTime() - t0) / 1e9);
    }

    private static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }
}
