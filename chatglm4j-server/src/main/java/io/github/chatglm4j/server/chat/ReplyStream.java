package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ReplySplitter;
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
 * <p>Without tools every reply is text ({@link TextRenderer}). With tools, the engine's {@link ReplySplitter} decides
 * where answer text ends and a call begins (a ChatGLM3 call is only recognisable from its first line: the tool name
 * instead of the newline of a plain answer, or {@code <|assistant|>} and the name after some text): text streams as
 * content; from the first call on, everything is held to the end and parsed with the engine's
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

    private final ToolSet tools;
    private final String prefill;
    private final ReplySplitter splitter;
    private final TextRenderer renderer = new TextRenderer();
    private final StringBuilder raw = new StringBuilder();
    /** The text from the start of the first call on (held to the end). */
    private final StringBuilder held = new StringBuilder();
    private boolean calling;

    /**
     * @param tools   the request's tools (inactive: every reply is text)
     * @param prefill text pre-filled after {@code <|assistant|>} in the prompt (a forced tool's name line), or ""
     */
    public ReplyStream(ToolSet tools, String prefill) {
        this.tools = tools;
        this.prefill = prefill;
        this.splitter = new ReplySplitter(prefill);
        this.calling = tools.active() && splitter.inCall();
    }

    /** Feeds decoded text (already cut at a stop string); returns the deltas it completes. */
    public List<Delta> push(String text) {
        raw.append(text);
        if (!tools.active()) {
            return content(renderer.push(text));
        }
        if (calling) {
            held.append(text);
            return List.of();
        }
        var out = new ArrayList<Delta>();
        for (ReplySplitter.Part part : splitter.push(text)) {
            if (calling) {
                break;
            }
            switch (part) {
                case ReplySplitter.Part.Text t -> out.add(new Delta.Content(t.text()));
                case ReplySplitter.Part.Call c -> {
                    calling = true;
                    // the call's segment starts at its <|assistant|>, or with the reply if it opens with the name
                    int at = raw.lastIndexOf(ASSISTANT);
                    held.append(raw, Math.max(at, 0), raw.length());
                    if (!out.isEmpty() || at > 0) {
                        renderer.continueAfterText();
                    }
                }
                case ReplySplitter.Part.Code c -> { }
            }
        }
        return out;
    }

    /**
     * Ends the turn.
     *
     * @param reason why generation ended (a stop string ends it with STOP)
     */
    public Finish finish(FinishReason reason) {
        List<Delta> out = new ArrayList<>();
        if (tools.active() && !calling) {
            for (ReplySplitter.Part part : splitter.finish()) {
                if (part instanceof ReplySplitter.Part.Text t) {
                    out.add(new Delta.Content(t.text()));
                }
            }
            return new Finish(out, finishReason(reason));
        }
        Delta.ToolCall call = calling ? call() : null;
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
        return new Finish(out, finishReason(reason));
    }

    private static String finishReason(FinishReason reason) {
        return switch (reason) {
            case LENGTH -> "length";
            case STOP, TOOL_CALL, CANCELLED -> "stop";
        };
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

    private static List<Delta> content(String text) {
        return text.isEmpty() ? List.of() : List.of(new Delta.Content(text));
    }
}
