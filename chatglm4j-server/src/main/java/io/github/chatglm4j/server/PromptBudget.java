package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Refuses text that cannot fit the context before any of it is tokenized or rendered. No token of the vocabulary
 * covers more characters than its longest piece (the normalizer is the identity; byte tokens cover less than one
 * character), so text longer than {@code context × longest piece} needs more tokens than the context holds: that
 * bound is exact, not a guess, and it keeps tokenizing (about a megabyte a second) off requests that must fail anyway.
 */
public final class PromptBudget {
    private static final Map<ChatGLMTokenizer, Integer> LONGEST_PIECE = new ConcurrentHashMap<>();
    /** {@code json.dumps} indents four spaces per level. */
    private static final int INDENT = 4;

    private PromptBudget() {
    }

    /** Characters that certainly need more tokens than the context holds. */
    static long maxChars(Backend backend) {
        int longest = LONGEST_PIECE.computeIfAbsent(backend.tokenizer(), PromptBudget::longestPiece);
        return (long) backend.contextSize() * longest;
    }

    /** The messages with their metadata and rendered tools, before they are built into a prompt. */
    public static void checkMessages(Backend backend, List<ChatMessage> messages) {
        long max = maxChars(backend);
        long chars = 0;
        for (ChatMessage m : messages) {
            chars += m.content().length() + m.metadata().length();
            if (m.tools() != null) {
                chars += renderedLength(m.tools(), 0, max - chars + 1);
            }
            if (chars > max) {
                throw tooLong(chars, backend, "messages");
            }
        }
    }

    static void checkText(Backend backend, String text, String param) {
        if (text.length() > maxChars(backend)) {
            throw tooLong(text.length(), backend, param);
        }
    }

    private static ApiError tooLong(long chars, Backend backend, String param) {
        return ApiError.invalid("This model's maximum context length is " + backend.contextSize() + " tokens, but the "
                + (param.equals("messages") ? "messages (with the tools)" : param) + " hold " + (chars > maxChars(backend) ? "more than " + maxChars(backend) : chars)
                + " characters, more than that many tokens can hold. Shorten them.", param, "context_length_exceeded");
    }

    /**
     * An upper bound of the length of {@code json.dumps(node, indent=4, ensure_ascii=False)} at this depth, computed
     * without building the text; stops counting past {@code cap}.
     */
    static long renderedLength(JsonNode node, int depth, long cap) {
        if (node.isObject() || node.isArray()) {
            if (node.isEmpty()) {
                return 2;
            }
            long n = 2 + 1 + (long) INDENT * depth; // brackets, the closing line
            var fields = node.isObject() ? node.properties().iterator() : null;
            var items = node.isArray() ? node.iterator() : null;
            while (n <= cap && (fields != null ? fields.hasNext() : items.hasNext())) {
                n += 2 + (long) INDENT * (depth + 1); // ",\n" and the indent
                JsonNode value;
                if (fields != null) {
                    var f = fields.next();
                    n += quotedLength(f.getKey()) + 2;
                    value = f.getValue();
                } else {
                    value = items.next();
                }
                n += renderedLength(value, depth + 1, cap - n);
            }
            return n;
        }
        if (node.isTextual()) {
            return quotedLength(node.textValue());
        }
        return node.asText().length() + 8; // numbers as Python prints them, true/false/null as True/False/None at most
    }

    private static long quotedLength(String s) {
        long n = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f' ? 2 : c < 0x20 ? 6 : 1;
        }
        return n;
    }

    private static int longestPiece(ChatGLMTokenizer t) {
        int longest = 1;
        for (int id = 0; id < t.vocabSize(); id++) {
            longest = Math.max(longest, t.piece(id).length());
        }
        return longest;
    }
}
