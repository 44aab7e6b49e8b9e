package io.github.chatglm4j.agent;

import io.github.chatglm4j.ChatReply;

import java.util.List;

/**
 * What one user message led to.
 *
 * @param rounds  every model turn, with the result of its call (null for the answer, or a call that was not run)
 * @param answer  the final text answer, or null if the turn ended otherwise
 * @param outcome how it ended
 */
public record AgentTurn(List<Round> rounds, String answer, Outcome outcome) {
    public AgentTurn {
        rounds = List.copyOf(rounds);
    }

    /** One model turn and, if it was a call that ran, its result. */
    public record Round(ChatReply reply, Observation observation) {
    }

    /** How a turn ends. */
    public enum Outcome {
        /** The model answered in text. */
        ANSWERED,
        /** The answer was cut at the token limit or the context size. */
        LENGTH,
        /** The model was still calling tools after the last allowed round; that call was not run. */
        ROUND_LIMIT,
        /** {@link Agent#cancel()} stopped it. */
        CANCELLED,
        /**
         * The model made a call that was not run ({@link AgentOptions#manualCalls()}): the caller supplies its result
         * as the next observation message.
         */
        AWAITING_OBSERVATION
    }
}
