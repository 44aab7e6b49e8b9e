package io.github.chatglm4j.server.chat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The JSON of chat completions and their stream chunks. Every field OpenAI marks required is always written
 * (clients such as openai-java fail on a missing {@code created} or {@code object}); nullable ones are written as
 * null rather than left out; empty placeholders ({@code tool_calls: []}, {@code usage: {}}) are never written.
 *
 * @param id      the completion id, shared by every chunk of a stream
 * @param created Unix seconds
 * @param model   the served model id
 * @param legacy  the request used {@code functions}: calls are written as {@code function_call}
 */
public record ChatResponses(String id, long created, String model, boolean legacy) {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Argument text per chunk when a call is streamed, so that clients exercise their accumulation as with OpenAI. */
    static final int ARGUMENT_FRAGMENT = 32;

    /** The non-streamed {@code chat.completion}. */
    public ObjectNode completion(List<ReplyStream.Delta> deltas, String finishReason, Usage usage) {
        var content = new StringBuilder();
        ReplyStream.Delta.ToolCall call = null;
        for (ReplyStream.Delta d : deltas) {
            switch (d) {
                case ReplyStream.Delta.Content c -> content.append(c.text());
                case ReplyStream.Delta.ToolCall t -> call = t;
            }
        }
        ObjectNode message = NODES.objectNode();
        message.put("role", "assistant");
        // OpenAI sends null content for a pure tool call
        if (content.isEmpty() && call != null) {
            message.putNull("content");
        } else {
            message.put("content", content.toString());
        }
        message.putNull("refusal");
        if (call != null) {
            if (legacy) {
                message.set("function_call", function(call.name(), call.arguments()));
            } else {
                ObjectNode tc = message.putArray("tool_calls").addObject();
                tc.put("id", call.id());
                tc.put("type", "function");
                tc.set("function", function(call.name(), call.arguments()));
            }
        }
        ObjectNode root = header("chat.completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("message", message);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        root.set("usage", usage.toJson());
        return root;
    }

    /** The first chunk: the role, with empty content (many clients take the role from it). */
    public ObjectNode roleChunk(boolean includeUsage) {
        ObjectNode delta = NODES.objectNode();
        delta.put("role", "assistant");
        delta.put("content", "");
        return chunk(delta, null, includeUsage);
    }

    /** The chunks for some deltas: one per content piece; a tool call as OpenAI streams it (name first, then argument fragments). */
    public List<ObjectNode> chunks(List<ReplyStream.Delta> deltas, boolean includeUsage) {
        List<ObjectNode> out = new ArrayList<>();
        for (ReplyStream.Delta d : deltas) {
            switch (d) {
                case ReplyStream.Delta.Content c -> {
                    ObjectNode delta = NODES.objectNode();
                    delta.put("content", c.text());
                    out.add(chunk(delta, null, includeUsage));
                }
                case ReplyStream.Delta.ToolCall t -> {
                    out.add(chunk(callDelta(t, true, ""), null, includeUsage));
                    for (String fragment : fragments(t.arguments())) {
                        out.add(chunk(callDelta(t, false, fragment), null, includeUsage));
                    }
                }
            }
        }
        return out;
    }

    /**
     * The last chunk of the choice: empty delta and the finish reason. Usage is never attached here: openai-java's
     * {@code ChatCompletionAccumulator} takes any chunk with a usage for the final usage chunk and fails on its
     * choices, so counts go only in the separate chunk that {@code include_usage} asks for, as OpenAI sends them.
     */
    public ObjectNode finishChunk(String finishReason, boolean includeUsage) {
        return chunk(NODES.objectNode(), finishReason, includeUsage);
    }

    /** {@code stream_options.include_usage}: the extra chunk with no choices and the usage. */
    public ObjectNode usageChunk(Usage usage) {
        ObjectNode root = header("chat.completion.chunk");
        root.putArray("choices");
        root.set("usage", usage.toJson());
        return root;
    }

    private ObjectNode callDelta(ReplyStream.Delta.ToolCall t, boolean first, String arguments) {
        ObjectNode delta = NODES.objectNode();
        ObjectNode fn = NODES.objectNode();
        if (first) {
            fn.put("name", t.name());
        }
        fn.put("arguments", arguments);
        if (legacy) {
            delta.set("function_call", fn);
            return delta;
        }
        ObjectNode tc = delta.putArray("tool_calls").addObject();
        tc.put("index", 0);
        if (first) {
            tc.put("id", t.id());
            tc.put("type", "function");
        }
        tc.set("function", fn);
        return delta;
    }

    private ObjectNode chunk(ObjectNode delta, String finishReason, boolean includeUsage) {
        ObjectNode root = header("chat.completion.chunk");
        ArrayNode choices = root.putArray("choices");
        ObjectNode choice = choices.addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        if (includeUsage) {
            root.putNull("usage");
        }
        return root;
    }

    private ObjectNode header(String object) {
        ObjectNode root = NODES.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private static ObjectNode function(String name, String arguments) {
        ObjectNode fn = NODES.objectNode();
        fn.put("name", name);
        fn.put("arguments", arguments);
        return fn;
    }

    /** The text cut into pieces of at most {@link #ARGUMENT_FRAGMENT} chars, never inside a surrogate pair. */
    static List<String> fragments(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int end = Math.min(text.length(), i + ARGUMENT_FRAGMENT);
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
                end--;
            }
            out.add(text.substring(i, end));
            i = end;
        }
        return out;
    }
}
