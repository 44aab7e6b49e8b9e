package io.github.chatglm4j.agent;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits of the agent loop.
 *
 * @param maxRounds        model turns per user message (the reference demo allows 5); a call in the last one is not run
 * @param observationLimit characters of a result the model reads; more is cut and marked " [TRUNCATED]" (reference: 1024)
 * @param toolTimeout      how long a tool may take before it is stopped (code cells have the interpreter's own timeout)
 */
public record AgentOptions(int maxRounds, int observationLimit, Duration toolTimeout) {
    public static final AgentOptions DEFAULTS = new AgentOptions(5, 1024, Duration.ofSeconds(30));

    public AgentOptions {
        Objects.requireNonNull(toolTimeout, "toolTimeout");
        if (maxRounds < 1 || observationLimit < 1 || toolTimeout.isNegative() || toolTimeout.isZero()) {
            throw new IllegalArgumentException("agent limits must be positive: " + maxRounds + ", " + observationLimit + ", " + toolTimeout);
        }
    }

    public AgentOptions withMaxRounds(int n) {
        return new AgentOptions(n, observationLimit, toolTimeout);
    }

    public AgentOptions withToolTimeout(Duration timeout) {
        return new AgentOptions(maxRounds, observationLimit, timeout);
    }
}
