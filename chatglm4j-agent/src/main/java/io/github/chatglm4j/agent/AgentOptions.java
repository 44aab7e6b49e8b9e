package io.github.chatglm4j.agent;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits of the agent loop.
 *
 * @param maxRounds        model turns per user message (the reference demo allows 5); a call in the last one is not run
 * @param observationLimit characters of a result the model reads; more is cut and marked " [TRUNCATED]" (reference: 1024)
 * @param toolTimeout      how long a tool may take before it is stopped (code cells have the interpreter's own timeout)
 * @param manualCalls      calls are not run: the turn ends at the model's first call with outcome
 *                         {@link AgentTurn.Outcome#AWAITING_OBSERVATION}, and the caller sends the result (typed by a
 *                         user, as in the reference demo's manual mode) as the next turn's observation
 */
public record AgentOptions(int maxRounds, int observationLimit, Duration toolTimeout, boolean manualCalls) {
    public static final AgentOptions DEFAULTS = new AgentOptions(5, 1024, Duration.ofSeconds(30), false);

    public AgentOptions {
        Objects.requireNonNull(toolTimeout, "toolTimeout");
        if (maxRounds < 1 || observationLimit < 1 || toolTimeout.isNegative() || toolTimeout.isZero()) {
            throw new IllegalArgumentException("agent limits must be positive: " + maxRounds + ", " + observationLimit + ", " + toolTimeout);
        }
    }

    public AgentOptions withMaxRounds(int n) {
        return new AgentOptions(n, observationLimit, toolTimeout, manualCalls);
    }

    public AgentOptions withToolTimeout(Duration timeout) {
        return new AgentOptions(maxRounds, observationLimit, timeout, manualCalls);
    }

    public AgentOptions withManualCalls(boolean manual) {
        return new AgentOptions(maxRounds, observationLimit, toolTimeout, manual);
    }
}
