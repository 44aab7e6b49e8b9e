package io.github.chatglm4j.chat;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Turns the decoded text of one generated reply into history entries and a reply value, as the reference's
 * {@code process_response} does.
 *
 * <p>The text is split at every literal {@code <|assistant|>}; each segment's first line is its metadata (a
 * tool name, {@code interpreter}, or blank for plain text) and the rest its content. Every segment becomes an
 * assistant history entry; the last one decides the reply:
 * <ul>
 *   <li>blank metadata (or no newline at all): {@link AssistantReply.Text};</li>
 *   <li>{@code interpreter}: {@link AssistantReply.CodeInterpreter} with the code of the last fenced block;</li>
 *   <li>any other name: the content's {@code tool_call(...)} is parsed (never evaluated) into
 *       {@link AssistantReply.ToolCall}, or {@link AssistantReply.MalformedToolCall} if that fails.</li>
 * </ul>
 *
 * <p>Where this differs from the reference, on purpose:
 * <ul>
 *   <li>History entries hold metadata and content stripped. The reference keeps both raw, and raw they carry
 *       the space that decoding leaves from the {@code ▁} of the first token after {@code <|assistant|>} or the
 *       metadata newline (" interpreter", " ```python"); re-encoded, that space becomes an extra {@code ▁▁}
 *       token the model never saw in training, while the stripped text re-encodes to the trained form.</li>
 *   <li>The reference parses a tool call only when the conversation declared tools, and otherwise returns the
 *       name and raw content. Here a call is parsed either way (a model may call a tool nobody declared, and the
 *       caller should see that as a call); without declared tools a failure says so in its message.</li>
 *   <li>{@code interpreter} is always the code interpreter, even with tools declared (the reference would then
 *       {@code eval} the code itself).</li>
 *   <li>The reference drops the first and last content lines as fences, which fails on a reply cut off before
 *       its closing fence (reference issue #897) or with text after it; here only actual fence lines are
 *       dropped.</li>
 * </ul>
 */
public final class ResponseParser {

    private static final String TRAINING_TIME_PLACEHOLDER = "[[训练时间]]";
    private static final String TRAINING_TIME = "2023年";
    private static final String INTERPRETER = ChatMessage.INTERPRETER;
    private static final String FENCE = "```";

    private ResponseParser() {
    }

    /**
     * The result of parsing one reply.
     *
     * @param messages the assistant turns to append to the history, one per {@code <|assistant|>} segment
     * @param reply    what the last segment asks for
     */
    public record Parsed(List<ChatMessage> messages, AssistantReply reply) {
        public Parsed {
            messages = List.copyOf(messages);
            Objects.requireNonNull(reply, "reply");
        }
    }

    /**
     * Parses a decoded reply.
     *
     * @param decoded       the generated ids decoded as the reference does (special tokens as text)
     * @param toolsDeclared whether the conversation's system message declared tools
     */
    public static Parsed parse(String decoded, boolean toolsDeclared) {
        List<ChatMessage> messages = new ArrayList<>();
        AssistantReply reply = null;
        for (String segment : splitAll(decoded, Role.ASSISTANT.token())) {
            int newline = segment.indexOf('\n');
            String metadata = newline < 0 ? "" : segment.substring(0, newline);
            String content = newline < 0 ? segment : segment.substring(newline + 1);
            String name = PythonText.strip(metadata);
            messages.add(ChatMessage.assistant(name, PythonText.strip(content)));
            reply = name.isEmpty()
                    ? new AssistantReply.Text(PythonText.strip(content).replace(TRAINING_TIME_PLACEHOLDER, TRAINING_TIME))
                    : call(name, content, toolsDeclared);
        }
        return new Parsed(messages, reply);
    }

    /** As {@link #parse(String, boolean)}, with tools declared when the history starts with a system turn carrying tools. */
    public static Parsed parse(String decoded, List<ChatMessage> history) {
        boolean tools = !history.isEmpty() && history.getFirst().role() == Role.SYSTEM && history.getFirst().tools() != null;
        return parse(decoded, tools);
    }

    private static AssistantReply call(String name, String content, boolean toolsDeclared) {
        if (name.equals(INTERPRETER)) {
            return new AssistantReply.CodeInterpreter(extractCode(content));
        }
        String code = toolCallCode(content);
        ParseResult<ObjectNode> parsed = PythonLiteralParser.parseToolCall(code);
        return switch (parsed) {
            case ParseResult.Ok<ObjectNode>(ObjectNode args) -> new AssistantReply.ToolCall(name, args, code);
            case ParseResult.Error<ObjectNode> e -> new AssistantReply.MalformedToolCall(name, content,
                    "cannot read the call to " + name + ": " + e.describe(code)
                            + (toolsDeclared ? "" : " (the conversation declared no tools)"));
        };
    }

    /**
     * The code of the last complete fenced block: what the reference demo's {@code ```([^\n]*)\n(.*?)```}
     * (last match, dot matching newlines) captures, so the body keeps its final newline. Where that regex finds
     * nothing (the demo then fails): a block cut off before its closing fence yields the text after its opening
     * line (empty if cut off on that line), and text without any fence yields itself, stripped.
     */
    public static String extractCode(String content) {
        String last = null;
        int lastOpenBody = -1;
        int from = 0;
        while (true) {
            int open = content.indexOf(FENCE, from);
            if (open < 0) {
                break;
            }
            int newline = content.indexOf('\n', open + FENCE.length());
            if (newline < 0) {
                lastOpenBody = content.length(); // cut off on the fence line itself: no code yet
                break;
            }
            int close = content.indexOf(FENCE, newline + 1);
            if (close < 0) {
                lastOpenBody = newline + 1; // an unclosed block: the reply was cut off
                break;
            }
            last = content.substring(newline + 1, close);
            from = close + FENCE.length();
        }
        if (last != null) {
            return last;
        }
        return lastOpenBody >= 0 ? content.substring(lastOpenBody) : PythonText.strip(content);
    }

    /** The tool call's source: the content without its opening fence line and its closing fence and after. */
    static String toolCallCode(String content) {
        List<String> lines = splitAll(content, "\n");
        int from = PythonText.strip(lines.getFirst()).startsWith(FENCE) ? 1 : 0;
        int to = lines.size();
        for (int i = lines.size() - 1; i >= from; i--) {
            if (PythonText.strip(lines.get(i)).startsWith(FENCE)) {
                to = i;
                break;
            }
        }
        return String.join("\n", lines.subList(from, to));
    }

    /** Python's {@code s.split(sep)}: literal separator, empty pieces kept. */
    private static List<String> splitAll(String s, String sep) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        for (int i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, start)) {
            parts.add(s.substring(start, i));
            start = i + sep.length();
        }
        parts.add(s.substring(start));
        return parts;
    }
}
