package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.generate.SamplingParams;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The generation options common to {@code /v1/chat/completions} and {@code /v1/completions}: sampling, the token
 * budget, stop strings and streaming. Defaults are the reference's chat defaults (temperature 0.8, top_p 0.8,
 * top_k 50); a request without {@code seed} gets a fresh random one.
 *
 * @param sampling     the sampler settings
 * @param maxTokens    the requested budget ({@code max_tokens}, {@code max_completion_tokens}: the smaller if both),
 *                     or null to allow the rest of the context
 * @param stop         stop strings; the reply ends before the first occurrence of any of them
 * @param stream       answer with server-sent events
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with {@code choices: []} and the usage
 */
public record GenerationParams(SamplingParams sampling, Integer maxTokens, List<String> stop, boolean stream,
                               boolean includeUsage) {

    /** Most stop strings accepted (OpenAI allows 4; others accept more, and matching a few more costs nothing). */
    static final int MAX_STOP_STRINGS = 16;

    public GenerationParams {
        stop = List.copyOf(stop);
    }

    /** Reads the common fields of a request body, rejecting values the engine cannot honour. */
    public static GenerationParams parse(JsonNode body) {
        SamplingParams s = SamplingParams.DEFAULTS.withSeed(ThreadLocalRandom.current().nextLong());
        // every range is checked on the float the sampler gets (a double of 1e-46 is 0 as a float)
        Float temperature = Fields.floatNumber(body, "temperature", 0, 2);
        if (temperature != null) {
            s = s.withTemperature(temperature);
        }
        Float topP = Fields.floatNumber(body, "top_p", 0, 1);
        if (topP != null) {
            // top_p 0 keeps only the most likely token: that is greedy decoding
            s = topP == 0 ? s.withTemperature(0f) : s.withTopP(topP);
        }
        Long topK = Fields.integer(body, "top_k", -1, Integer.MAX_VALUE);
        if (topK != null) {
            s = s.withTopK(topK <= 0 ? 0 : topK.intValue()); // -1 (vLLM) and 0 both mean "no top-k"
        }
        Long seed = Fields.integer(body, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        if (seed != null) {
            s = s.withSeed(seed);
        }
        Float presence = Fields.floatNumber(body, "presence_penalty", -2, 2);
        Float frequency = Fields.floatNumber(body, "frequency_penalty", -2, 2);
        if (presence != null || frequency != null) {
            s = s.withPenalties(presence == null ? 0f : presence, frequency == null ? 0f : frequency);
        }
        Float repetition = Fields.floatNumber(body, "repetition_penalty", 0, 100);
        if (repetition != null) {
            if (repetition <= 0) {
                throw new InvalidRequestException("repetition_penalty", "repetition_penalty must be greater than 0, got "
                        + body.get("repetition_penalty") + (repetition == 0 ? " (0 as a 32-bit float)" : ""));
            }
            s = s.withRepetitionPenalty(repetition);
        }
        Long maxTokens = Fields.integer(body, "max_tokens", 1, Integer.MAX_VALUE);
        Long maxCompletion = Fields.integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
        Integer budget = null;
        if (maxTokens != null || maxCompletion != null) {
            budget = (int) Math.min(maxTokens == null ? Long.MAX_VALUE : maxTokens, maxCompletion == null ? Long.MAX_VALUE : maxCompletion);
        }

        Long n = Fields.integer(body, "n", Long.MIN_VALUE, Long.MAX_VALUE);
        if (n != null && n != 1) {
            throw new InvalidRequestException("n", "n must be 1: this server generates one choice per request, got " + n);
        }
        Boolean logprobs = Fields.bool(body, "logprobs", "logprobs");
        if (Boolean.TRUE.equals(logprobs)) {
            throw new InvalidRequestException("logprobs", "logprobs are not supported by this server");
        }
        Long topLogprobs = Fields.integer(body, "top_logprobs", 0, 20);
        if (topLogprobs != null && topLogprobs > 0) {
            throw new InvalidRequestException("top_logprobs", "top_logprobs are not supported by this server");
        }
        JsonNode logitBias = Fields.get(body, "logit_bias");
        if (logitBias != null && (!logitBias.isObject() || !logitBias.isEmpty())) {
            throw new InvalidRequestException("logit_bias", "logit_bias is not supported by this server");
        }
        boolean stream = Boolean.TRUE.equals(Fields.bool(body, "stream", "stream"));
        boolean includeUsage = false;
        JsonNode options = Fields.get(body, "stream_options");
        if (options != null && stream) { // OpenAI rejects stream_options without stream; clients send it anyway: ignore it then
            if (!options.isObject()) {
                throw new InvalidRequestException("stream_options", "stream_options must be an object, got " + Fields.describe(options));
            }
            includeUsage = Boolean.TRUE.equals(Fields.bool(options, "include_usage", "stream_options.include_usage"));
        }
        return new GenerationParams(s, budget, stopStrings(body), stream, includeUsage);
    }

    private static List<String> stopStrings(JsonNode body) {
        JsonNode v = Fields.get(body, "stop");
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            if (!v.textValue().isEmpty()) {
                out.add(v.textValue());
            }
            return out;
        }
        if (!v.isArray()) {
            throw new InvalidRequestException("stop", "stop must be a string or an array of strings, got " + Fields.describe(v));
        }
        if (v.size() > MAX_STOP_STRINGS) {
            throw new InvalidRequestException("stop", "stop may hold at most " + MAX_STOP_STRINGS + " strings, got " + v.size());
        }
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw new InvalidRequestException("stop[" + i + "]", "stop[" + i + "] must be a string, got " + Fields.describe(v.get(i)));
            }
            if (!v.get(i).textValue().isEmpty()) {
                out.add(v.get(i).textValue());
            }
        }
        return out;
    }
}
