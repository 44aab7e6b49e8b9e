package io.github.chatglm4j.generate;

/**
 * Counters since start and current gauges, for monitoring.
 *
 * @param slots              parallel sequences the scheduler runs
 * @param running            requests being processed now
 * @param waiting            requests in the queue
 * @param requestsFinished   requests completed (any finish reason, failures included)
 * @param promptTokens       prompt tokens of all admitted requests
 * @param cachedPromptTokens prompt tokens reused from a slot's cache instead of computed
 * @param generatedTokens    tokens generated
 * @param decodeSteps        batched decode steps run
 * @param decodeSeconds      time spent in decode steps
 * @param prefillSeconds     time spent computing prompts
 * @param firstTokenSeconds  sum over finished requests of the time from submission to the first token
 * @param firstTokenCount    requests that produced a first token
 */
public record SchedulerStats(int slots, int running, int waiting, long requestsFinished, long promptTokens,
                             long cachedPromptTokens, long generatedTokens, long decodeSteps, double decodeSeconds,
                             double prefillSeconds, double firstTokenSeconds, long firstTokenCount) {
}
