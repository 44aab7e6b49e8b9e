package io.github.chatglm4j.generate;

import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * Limits and stop conditions of one generation.
 *
 * @param sampling     how tokens are chosen
 * @param maxNewTokens most tokens to generate (the context size also limits)
 * @param stopIds      ids that end generation; the stop id itself is not part of the output
 * @param cancelled    polled between tokens; true ends generation with {@link FinishReason#CANCELLED}
 */
public record GenerationOptions(SamplingParams sampling, int maxNewTokens, int[] stopIds, BooleanSupplier cancelled) {

    /** Chat stops at end of text, at {@code <|user|>} and at {@code <|observation|>} (not at {@code <|assistant|>}). */
    public static final int[] CHAT_STOP_IDS = {2, 64795, 64797};
    /** Plain completion stops at end of text only, as transformers does with the config's eos id. */
    public static final int[] COMPLETION_STOP_IDS = {2};

    public GenerationOptions {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        stopIds = stopIds.clone();
        cancelled = cancelled == null ? () -> false : cancelled;
    }

    public static GenerationOptions chat(SamplingParams sampling, int maxNewTokens) {
        return new GenerationOptions(sampling, maxNewTokens, CHAT_STOP_IDS, null);
    }

    public static GenerationOptions completion(SamplingParams sampling, int maxNewTokens) {
        return new GenerationOptions(sampling, maxNewTokens, COMPLETION_STOP_IDS, null);
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
        return new GenerationOptions(sampling, maxNewTokens, stopIds, c);
    }

    @Override
    public String toString() {
        return "GenerationOptions[" + sampling + ", maxNewTokens=" + maxNewTokens + ", stopIds=" + Arrays.toString(stopIds) + "]";
    }
}
