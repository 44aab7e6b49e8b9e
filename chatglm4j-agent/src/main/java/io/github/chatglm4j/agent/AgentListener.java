package io.github.chatglm4j.agent;

/** Receives a turn's events on the thread that runs the turn. */
@FunctionalInterface
public interface AgentListener {
    AgentListener NONE = event -> { };

    void on(AgentEvent event);
}
