package io.github.chatglm4j.generate;

/**
 * How the next token is chosen. The defaults are the reference's for chat: temperature 0.8, top-p 0.8 and
 * transformers' implicit top-k 50, applied in that order; temperature 0 means greedy (argmax).
 *
 * @param temperature       divides the logits; 0 selects the most likely token
 * @param topP              nucleus size (1 keeps everything)
 * @param topK              keep only the k most likely tokens (0 disables)
 * @param repetitionPenalty transformers' penalty over every id in the context, prompt included (1 disables)
 * @param presencePenalty   OpenAI-style: subtracted once from every token already generated (0 disables)
 * @param frequencyPenalty  OpenAI-style: subtracted per occurrence among generated tokens (0 disables)
 * @param seed              seeds the random choice, so the same seed reproduces the same output
 */
public record SamplingParams(float temperature, float topP, int topK, float repetitionPenalty,
                             float presencePenalty, float frequencyPenalty, long seed) {

    public static final SamplingParams DEFAULTS = new SamplingParams(0.8f, 0.8f, 50, 1.0f, 0f, 0f, 0L);

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + topK);
        }
        if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0, got " + repetitionPenalty);
        }
        if (!Float.isFinite(presencePenalty) || !Float.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("presence and frequency penalties must be finite");
        }
    }

    /** Greedy decoding (argmax), as the reference does for temperature ≤ 1e-5. */
    public static SamplingParams greedy() {
        return DEFAULTS.withTemperature(0f);
    }

    public boolean isGreedy() {
        return temperature <= 1e-5f;
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topP, topK, repetitionPenalty, presencePenalty, frequencyPenalty, seed);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, p, topK, repetitionPenalty, presencePenalty, frequencyPenalty, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, topP, k, repetitionPenalty, presencePenalty, frequencyPenalty, seed);
    }

    public SamplingParams withRepetitionPenalty(float r) {
        return new SamplingParams(temperature, topP, topK, r, presencePenalty, frequencyPenalty, seed);
    }

    public SamplingParams withPenalties(float presence, float frequency) {
        return new SamplingParams(temperature, topP, topK, repetitionPenalty, presence, frequency, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topP, topK, repetitionPenalty, presencePenalty, frequencyPenalty, s);
    }
}
