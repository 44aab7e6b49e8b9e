package io.github.chatglm4j.server;

import io.github.chatglm4j.generate.SchedulerStats;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters in Prometheus' text format: HTTP requests by route and status, finished generations by outcome, queue
 * rejections, and the scheduler's own counters (tokens, queue, running requests, time to first token, speed).
 */
final class Metrics {
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> finished = new ConcurrentHashMap<>();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder keepAlives = new LongAdder();
    private final LongAdder clientsGone = new LongAdder();

    void request(String route, int status) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
    }

    /** A generation ended: stop, length, tool_calls, function_call, cancelled (client gone) or error. */
    void finished(String outcome) {
        finished.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    void rejected() {
        rejected.increment();
    }

    /** A client left before its answer ended; its generation is being cancelled. */
    void clientGone() {
        clientsGone.increment();
    }

    long clientsGone() {
        return clientsGone.sum();
    }

    void keepAlive() {
        keepAlives.increment();
    }

    long keepAlives() {
        return keepAlives.sum();
    }

    long finishedCount(String outcome) {
        LongAdder a = finished.get(outcome);
        return a == null ? 0 : a.sum();
    }

    /**
     * The exposition text; {@code stats} is null while the model loads.
     *
     * @param openConnections    connections open now
     * @param refusedConnections connections refused at the connection cap so far
     * @param protocolErrors     requests refused by the transport (malformed HTTP, oversized heads, timeouts)
     */
    String render(SchedulerStats stats, int openConnections, long refusedConnections, long protocolErrors) {
        var out = new StringBuilder();
        header(out, "chatglm_http_requests_total", "counter", "HTTP requests answered, by route and status.");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            out.append("chatglm_http_requests_total{route=\"").append(k[0]).append("\",status=\"").append(k[1])
                    .append("\"} ").append(e.getValue().sum()).append('\n');
        }
        header(out, "chatglm_requests_finished_total", "counter", "Generations ended, by outcome (cancelled: the client went away).");
        for (var e : new TreeMap<>(finished).entrySet()) {
            out.append("chatglm_requests_finished_total{outcome=\"").append(e.getKey()).append("\"} ").append(e.getValue().sum()).append('\n');
        }
        gauge(out, "chatglm_requests_rejected_total", "counter", "Requests refused with 503 because the queue was full.", rejected.sum());
        gauge(out, "chatglm_clients_gone_total", "counter", "Requests whose client disconnected before the answer ended (then cancelled).",
                clientsGone.sum());
        gauge(out, "chatglm_stream_keepalives_total", "counter", "Keep-alive comments sent on idle streams.", keepAlives.sum());
        gauge(out, "chatglm_http_connections_open", "gauge", "HTTP connections open now.", openConnections);
        gauge(out, "chatglm_http_connections_refused_total", "counter", "Connections refused because the connection limit was reached.",
                refusedConnections);
        gauge(out, "chatglm_http_protocol_errors_total", "counter", "Requests refused for malformed HTTP, oversized heads or timeouts.",
                protocolErrors);
        gauge(out, "chatglm_model_loaded", "gauge", "1 once the model is loaded and requests are served.", stats == null ? 0 : 1);
        if (stats == null) {
            return out.toString();
        }
        gauge(out, "chatglm_slots", "gauge", "Sequences generated in parallel.", stats.slots());
        gauge(out, "chatglm_requests_running", "gauge", "Requests in a slot now.", stats.running());
        gauge(out, "chatglm_requests_waiting", "gauge", "Requests in the queue now.", stats.waiting());
        gauge(out, "chatglm_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", stats.promptTokens());
        gauge(out, "chatglm_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's cache.", stats.cachedPromptTokens());
        gauge(out, "chatglm_generated_tokens_total", "counter", "Tokens generated.", stats.generatedTokens());
        gauge(out, "chatglm_decode_steps_total", "counter", "Batched decode steps.", stats.decodeSteps());
        gauge(out, "chatglm_prefill_seconds_total", "counter", "Time spent computing prompts.", stats.prefillSeconds());
        gauge(out, "chatglm_decode_seconds_total", "counter", "Time spent in decode steps.", stats.decodeSeconds());
        header(out, "chatglm_time_to_first_token_seconds", "summary", "Time from submission to the first generated token.");
        out.append("chatglm_time_to_first_token_seconds_sum ").append(number(stats.firstTokenSeconds())).append('\n');
        out.append("chatglm_time_to_first_token_seconds_count ").append(stats.firstTokenCount()).append('\n');
        long computedPrompt = stats.promptTokens() - stats.cachedPromptTokens();
        gauge(out, "chatglm_prompt_tokens_per_second", "gauge", "Prompt tokens computed per second of prefill, since start.",
                stats.prefillSeconds() == 0 ? 0 : computedPrompt / stats.prefillSeconds());
        gauge(out, "chatglm_generation_tokens_per_second", "gauge", "Tokens generated per second of decoding (all slots), since start.",
                stats.decodeSeconds() == 0 ? 0 : stats.generatedTokens() / stats.decodeSeconds());
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String type, String help, double value) {
        header(out, name, type, help);
        out.append(name).append(' ').append(number(value)).append('\n');
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.6g", v);
    }
}
