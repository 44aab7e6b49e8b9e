package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ResponseParser;
import io.github.chatglm4j.generate.FinishReason;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Translates one assistant turn, as decoded text arrives, into what an OpenAI client receives: content deltas and
 * at most one tool call, then the finish reason. Streaming and non-streaming responses are both built from it, so
 * they agree.
 *
 * <p>A ChatGLM3 tool call is only recognisable from its first line: the reply starts with the tool name (its
 * metadata line) instead of the newline of a plain answer, or, after some text, with {@code <|assistant|>} and the
 * name. So while tools are in play, text is held back until the first line is complete; a blank first line makes
 * the reply text and it streams from then on; anything else is held to the end and parsed with the engine's
 * {@link ResponseParser}. A call of a declared tool (or of {@code interpreter} when declared) becomes the tool call;
 * anything else (an undeclared name, a call that cannot be read, e.g. cut off by the token limit) is shown as text.
 */
public final class ReplyStream {
    private static final String ASSISTANT = TextRenderer.ASSISTANT;

    /** What the client receives, in order. */
    public sealed interface Delta {
        /** Reply text. */
        record Content(String text) implements Delta {
        }

        /** A complete tool call; {@code arguments} is a JSON object as a string. */
        record ToolCall(String id, String name, String arguments) implements Delta {
        }
    }

    /** The end of the turn: the last deltas and OpenAI's finish reason. */
    public record Finish(List<Delta> deltas, String finishReason) {
        public Finish {
            deltas = List.copyOf(deltas);
        }
    }

    private enum Phase { FIRST_LINE, TEXT, CALL }

    private final ToolSet tools;
    private final String prefill;
    private final TextRenderer renderer = new TextRenderer();
    private final StringBuilder raw = new StringBuilder();
    private final StringBuilder held = new StringBuilder();
    private Phase phase;

    /**
     * @param tools   the request's tools (inactive: every reply is text)
     * @param prefill text pre-filled after {@code <|assistant|>} in the prompt (a forced tool's name line), or ""
     */
    public ReplyStream(ToolSet tools, String prefill) {
        this.tools = tools;
        this.prefill = prefill;
        this.phase = !tools.active() ? Phase.TEXT : prefill.isEmpty() ? Phase.FIRST_LINE : Phase.CALL;
    }

    /** Feeds decoded text (already cut at a stop string); returns the deltas it completes. */
    public List<Delta> push(String text) {
        raw.append(text);
        if (!tools.active()) {
            return content(renderer.push(text));
        }
        held.append(text);
        if (phase == Phase.FIRST_LINE) {
            int newline = held.indexOf("\n");
            int assistant = held.indexOf(ASSISTANT);
            if (assistant >= 0 && (newline < 0 || assistant < newline)) {
                phase = Phase.CALL;
            } else if (newline >= 0) {
                phase = held.substring(0, newline).isBlank() ? Phase.TEXT : Phase.CALL;
            }
        }
        if (phase != Phase.TEXT) {
            return List.of();
        }
        int assistant = held.indexOf(ASSISTANT);
        int cut = assistant >= 0 ? assistant : held.length() - partialAssistant(held);
        String out = renderer.push(held.substring(0, cut));
        held.delete(0, cut);
        if (assistant >= 0) {
            phase = Phase.CALL;
        }
        return content(out);
    }

    /**
     * Ends the turn.
     *
     * @param reason why generation ended (a stop string ends it with STOP)
     */
    public Finish finish(FinishReason reason) {
        List<Delta> out = new ArrayList<>();
        Delta.ToolCall call = tools.active() && phase != Phase.TEXT ? call() : null;
        if (call != null) {
            int last = held.lastIndexOf(ASSISTANT);
            if (last > 0) {
                out.addAll(content(renderer.push(held.substring(0, last))));
            }
            out.addAll(content(renderer.finish()));
            out.add(call);
            return new Finish(out, tools.legacy() ? "function_call" : "tool_calls");
        }
        out.addAll(content(renderer.push(held.toString())));
        out.addAll(content(renderer.finish()));
        held.setLength(0);
        String finish = switch (reason) {
            case LENGTH -> "length";
            case STOP, TOOL_CALL, CANCELLED -> "stop";
        };
        return new Finish(out, finish);
    }

    private Delta.ToolCall call() {
        AssistantReply reply = ResponseParser.parse(prefill + raw, true).reply();
        return switch (reply) {
            case AssistantReply.ToolCall c when tools.names().contains(c.name()) && !c.name().equals(ToolSet.INTERPRETER) ->
                    new Delta.ToolCall(newCallId(), c.name(), c.arguments().toString());
            case AssistantReply.CodeInterpreter ci when tools.interpreterDeclared() -> {
                ObjectNode args = JsonNodeFactory.instance.objectNode().put("code", ci.code());
                yield new Delta.ToolCall(newCallId(), ToolSet.INTERPRETER, args.toString());
            }
            default -> null;
        };
    }

    /** OpenAI's call ids look like {@code call_} and 24 random characters. */
    static String newCallId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }

    /** Length of the longest suffix of {@code s} that could begin {@code <|assistant|>}. */
    private static int partialAssistant(CharSequence s) {
        for (int n = Math.min(ASSISTANT.length() - 1, s.length()); n > 0; n--) {
            if (ASSISTANT.startsWith(s.subSequence(s.length() - n, s.length()).toString())) {
                return n;
            }
        }
        return 0;
    }

    private static List<Delta> content(String text) {
        return text.isEmpty() ? List.of() : List.of(new Delta.Content(text));
    }
}
