package io.github.chatglm4j.agent;

import io.github.chatglm4j.chat.AssistantReply;

/** One step of an agent turn, streamed as it happens. Rounds count model turns from 1. */
public sealed interface AgentEvent {

    /** Text the model generated (raw, with call headers and {@code <|assistant|>} as decoded). */
    record Token(int round, String text) implements AgentEvent {
    }

    /**
     * The model asked for something: a {@link AssistantReply.ToolCall} with parsed JSON arguments, a
     * {@link AssistantReply.CodeInterpreter} cell, or a {@link AssistantReply.MalformedToolCall} it got wrong.
     */
    record Call(int round, AssistantReply call) implements AgentEvent {
    }

    /** What is going on, for a status line ("running the code", "calling get_weather", "round limit reached"). */
    record Status(int round, String message) implements AgentEvent {
    }

    /** A call's result, just before the model reads it. */
    record Result(int round, AssistantReply call, Observation observation) implements AgentEvent {
    }

    /** The turn is over. */
    record Finished(AgentTurn turn) implements AgentEvent {
    }
}
