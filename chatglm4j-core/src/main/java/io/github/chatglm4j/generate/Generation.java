package io.github.chatglm4j.generate;

/**
 * The outcome of one generation.
 *
 * @param promptTokens   tokens in the prompt (the whole sequence before generation)
 * @param computedTokens prompt tokens actually computed (the rest were reused from a cache)
 * @param ids            generated ids, without the stop id; after a stop string, up to the token that completed it
 * @param text           their decoded text, cut before a stop string
 * @param finishReason   why it ended ({@link FinishReason#TOOL_CALL} is set by the chat layer after parsing)
 * @param stopId         the stop id that ended it, or -1
 * @param stopString     the stop string that ended it, or null
 * @param prefillNanos   time spent computing the prompt
 * @param decodeNanos    time spent in decode steps after the prompt
 */
public record Generation(int promptTokens, int computedTokens, int[] ids, String text, FinishReason finishReason,
                         int stopId, String stopString, long prefillNanos, long decodeNanos) {

    public Generation {
        ids = ids.clone();
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    /** Prompt tokens computed per second. */
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : computedTokens * 1e9 / prefillNanos;
    }

    /** Generated tokens per second after the first one (which the prefill produces). */
    public double decodeTokensPerSecond() {
        return ids.length <= 1 || decodeNanos == 0 ? 0 : (ids.length - 1) * 1e9 / decodeNanos;
    }

    public Generation withFinishReason(FinishReason reason) {
        return new Generation(promptTokens, computedTokens, ids, text, reason, stopId, stopString, prefillNanos, decodeNanos);
    }
}
