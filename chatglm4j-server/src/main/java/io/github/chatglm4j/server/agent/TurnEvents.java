package io.github.chatglm4j.server.agent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.agent.AgentEvent;
import io.github.chatglm4j.agent.AgentTurn;
import io.github.chatglm4j.agent.Observation;
import io.github.chatglm4j.agent.interpreter.DataFile;
import io.github.chatglm4j.agent.interpreter.Figure;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ReplySplitter;
import io.github.chatglm4j.generate.Generation;

import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The agent's events as the web UI reads them: one JSON object per event, {@code type} first (text, call_start, code,
 * call, status, result, done, error). See docs/server.md, "The agent API".
 */
final class TurnEvents {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private TurnEvents() {
    }

    /** The event for a step of the turn, or null for the end (answered with {@link #done}). */
    static ObjectNode of(AgentEvent event) {
        return switch (event) {
            case AgentEvent.Reply(int round, ReplySplitter.Part.Text t) -> event("text", round).put("text", t.text());
            case AgentEvent.Reply(int round, ReplySplitter.Part.Call c) -> event("call_start", round).put("name", c.name());
            case AgentEvent.Reply(int round, ReplySplitter.Part.Code c) -> event("code", round).put("text", c.text());
            case AgentEvent.Call(int round, AssistantReply call) -> call(round, call);
            case AgentEvent.Status(int round, String message) -> event("status", round).put("message", message);
            case AgentEvent.Result(int round, AssistantReply call, Observation o) -> result(round, call, o);
            case AgentEvent.Finished f -> null;
        };
    }

    private static ObjectNode call(int round, AssistantReply call) {
        ObjectNode e = event("call", round).put("name", name(call));
        switch (call) {
            case AssistantReply.ToolCall t -> e.<ObjectNode>set("arguments", t.arguments().deepCopy()).putNull("code").putNull("error");
            case AssistantReply.CodeInterpreter c -> e.putNull("arguments").put("code", c.code()).putNull("error");
            case AssistantReply.MalformedToolCall m -> e.putNull("arguments").putNull("code").put("error", m.error());
            case AssistantReply.Text t -> throw new IllegalArgumentException("a text answer is not a call");
        }
        return e;
    }

    private static ObjectNode result(int round, AssistantReply call, Observation o) {
        ObjectNode e = event("result", round).put("name", name(call)).put("observation", o.content()).put("display", o.display());
        ArrayNode images = e.putArray("images");
        for (Figure f : o.figures()) {
            images.add(Base64.getEncoder().encodeToString(f.png()));
        }
        ArrayNode files = e.putArray("files");
        for (DataFile f : o.files()) {
            files.addObject().put("name", f.name()).put("size", f.size());
        }
        return e.put("failed", o.failed()).put("timed_out", o.timedOut()).put("restarted", o.restarted());
    }

    /** The tool's name, or {@code interpreter}. */
    static String name(AssistantReply call) {
        return switch (call) {
            case AssistantReply.ToolCall t -> t.name();
            case AssistantReply.CodeInterpreter c -> ChatMessage.INTERPRETER;
            case AssistantReply.MalformedToolCall m -> m.name();
            case AssistantReply.Text t -> "";
        };
    }

    /**
     * The last event of a turn: how it ended, the whole conversation after it (which the browser sends back next
     * time), and what the model computed.
     */
    static ObjectNode done(AgentTurn turn, int maxRounds, List<ChatMessage> history) {
        ObjectNode e = NODES.objectNode().put("type", "done")
                .put("outcome", turn.outcome().name().toLowerCase(Locale.ROOT))
                .put("max_rounds", maxRounds);
        e.set("history", history(history));
        e.set("stats", stats(turn));
        return e;
    }

    static ArrayNode history(List<ChatMessage> messages) {
        ArrayNode out = NODES.arrayNode();
        for (ChatMessage m : messages) {
            out.addObject().put("role", m.role().wireName()).put("content", m.content()).put("metadata", m.metadata());
        }
        return out;
    }

    /**
     * Summed over the turn's model turns: prompt tokens, those reused from the cache, prompt tokens computed per
     * second, tokens generated, and tokens generated per second after each turn's first.
     */
    static ObjectNode stats(AgentTurn turn) {
        long prompt = 0;
        long computed = 0;
        long prefillNanos = 0;
        long generated = 0;
        long decoded = 0;
        long decodeNanos = 0;
        for (AgentTurn.Round r : turn.rounds()) {
            Generation g = r.reply().generation();
            prompt += g.promptTokens();
            computed += g.computedTokens();
            prefillNanos += g.prefillNanos();
            generated += g.ids().length;
            decoded += Math.max(0, g.ids().length - 1);
            decodeNanos += g.decodeNanos();
        }
        return NODES.objectNode()
                .put("prompt_tokens", prompt)
                .put("cached_tokens", prompt - computed)
                .put("prompt_tokens_per_second", prefillNanos == 0 ? 0 : round(computed * 1e9 / prefillNanos))
                .put("completion_tokens", generated)
                .put("generation_tokens_per_second", decodeNanos == 0 ? 0 : round(decoded * 1e9 / decodeNanos));
    }

    private static double round(double x) {
        return Math.round(x * 100) / 100.0;
    }

    static ObjectNode error(String code, String message) {
        return NODES.objectNode().put("type", "error").put("code", code).put("message", message);
    }

    private static ObjectNode event(String type, int round) {
        return NODES.objectNode().put("type", type).put("round", round);
    }
}
