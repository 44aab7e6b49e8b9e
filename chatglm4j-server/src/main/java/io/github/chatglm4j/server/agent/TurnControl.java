package io.github.chatglm4j.server.agent;

import io.github.chatglm4j.agent.interpreter.Cancellation;

/**
 * Stops a turn from outside its thread: the Stop request, a client that leaves, the conversation's deletion, the
 * server stopping. The cancel reaches the turn whether it is generating, running a cell (interrupted) or a tool, or
 * has not started yet.
 */
final class TurnControl {
    private final Cancellation cancellation = new Cancellation();

    Cancellation cancellation() {
        return cancellation;
    }

    void cancel() {
        cancellation.cancel();
    }

    boolean cancelled() {
        return cancellation.isCancelled();
    }
}
