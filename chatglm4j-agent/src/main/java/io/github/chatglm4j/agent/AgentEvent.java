package io.github.chatglm4j.agent;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ReplySplitter;

/** One step of an agent turn, streamed as it happens. Rounds count model turns from 1. */
public sealed interface AgentEvent {

    /**
     * A piece of the model's turn as it streams, split by {@link ReplySplitter} as everything that shows replies splits
     * them: answer text, the start of a call (its tool name, or {@code interpreter}), and the call's code.
     */
    record Reply(int round, ReplySplitter.Part part) implements AgentEvent {
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
