package io.github.chatglm4j.cli;

import io.github.chatglm4j.generate.SamplingParams;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.SplittableRandom;

/** How tokens are chosen: the reference chat defaults (temperature 0.8, top-p 0.8, transformers' top-k 50). */
final class SamplingOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Sampling temperature; 0 picks the most likely token (greedy). Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.8",
            description = "Nucleus sampling: keep the most likely tokens up to this probability mass, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "50",
            description = "Keep only the K most likely tokens (0: no limit). Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "Penalize every token already in the context (1: off). Default: ${DEFAULT-VALUE}.")
    float repetitionPenalty;

    @Option(names = "--seed", paramLabel = "N",
            description = "Random seed, to reproduce a sampled output (default: a new seed each run).")
    Long seed;

    SamplingParams params() {
        check(temperature >= 0 && Float.isFinite(temperature), "--temperature must be 0 or more, got " + temperature);
        check(topP > 0 && topP <= 1, "--top-p must be in (0, 1], got " + topP);
        check(topK >= 0, "--top-k must be 0 or more, got " + topK);
        check(repetitionPenalty > 0 && Float.isFinite(repetitionPenalty), "--repetition-penalty must be more than 0, got " + repetitionPenalty);
        long s = seed != null ? seed : new SplittableRandom().nextLong();
        return new SamplingParams(temperature, topP, topK, repetitionPenalty, 0f, 0f, s);
    }

    private void check(boolean ok, String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
