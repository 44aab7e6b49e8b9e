package io.github.chatglm4j.generate;

import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What decides the end of one generation, all checked on the scheduler thread after every token: stop ids, stop
 * strings, the new-token limit (the context size limits too) and cancellation.
 *
 * @param sampling     how tokens are chosen (penalties included)
 * @param maxNewTokens most tokens to generate
 * @param stopIds      ids that end generation; the stop id itself is not part of the output
 * @param stopStrings  texts that end generation; the output is cut before the first one found, and no token is
 *                     generated after the one that completed it
 * @param cancelled    polled between tokens; true ends generation with {@link FinishReason#CANCELLED}
 */
public record GenerationOptions(SamplingParams sampling, int maxNewTokens, int[] stopIds, List<String> stopStrings,
                                BooleanSupplier cancelled) {

    /** Chat stops at end of text, at {@code <|user|>} and at {@code <|observation|>} (not at {@code <|assistant|>}). */
    public static final int[] CHAT_STOP_IDS = {2, 64795, 64797};
    /** Plain completion stops at end of text only, as transformers does with the config's eos id. */
    public static final int[] COMPLETION_STOP_IDS = {2};

    public GenerationOptions {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        stopIds = stopIds.clone();
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
        cancelled = cancelled == null ? () -> false : cancelled;
    }

    public static GenerationOptions chat(SamplingParams sampling, int maxNewTokens) {
        return new GenerationOptions(sampling, maxNewTokens, CHAT_STOP_IDS, List.of(), null);
    }

    public static GenerationOptions completion(SamplingParams sampling, int maxNewTokens) {
        return new GenerationOptions(sampling, maxNewTokens, COMPLETION_STOP_IDS, List.of(), null);
    }

    @Override
    public int[] stopIds() {
        return stopIds.clone();
    }

    public boolean isStop(int id) {
        for (int s : stopIds) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }

    public GenerationOptions withCancellation(BooleanSupplier c) {
        return new GenerationOptions(sampling, maxNewTokens, stopIds, stopStrings, c);
    }

    public GenerationOptions withStopStrings(List<String> strings) {
        return new GenerationOptions(sampling, maxNewTokens, stopIds, strings, cancelled);
    }

    public GenerationOptions withMaxNewTokens(int max) {
        return new GenerationOptions(sampling, max, stopIds, stopStrings, cancelled);
    }

    @Override
    public String toString() {
        return "GenerationOptions[" + sampling + ", maxNewTokens=" + maxNewTokens + ", stopIds=" + Arrays.toString(stopIds)
                + ", stopStrings=" + stopStrings + "]";
    }
}
