package io.github.chatglm4j.chat;

import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Builds ChatGLM3 prompts from messages as token ids, structurally, the way the reference
 * {@code build_chat_input} does (never by rendering a string and tokenizing it, which would lose the dummy
 * prefixes and let typed role strings become role tokens).
 */
public final class PromptBuilder {
    private static final int[] PREFIX = {ChatGLMTokenizer.GMASK, ChatGLMTokenizer.SOP};

    private final ChatGLMTokenizer tokenizer;

    public PromptBuilder(ChatGLMTokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * One message: its role token, then {@code encode(metadata + "\n")}, then {@code encode(content)}, each text
     * encoded on its own (so each gets SentencePiece's dummy prefix) and nothing after the content. A system
     * message with tools has {@code "\n" + json.dumps(tools, indent=4, ensure_ascii=False)} appended to its content.
     */
    public int[] buildMessage(ChatMessage message) {
        String content = message.content();
        if (message.tools() != null) {
            content = content + "\n" + PythonJson.dumps(message.tools());
        }
        int[] header = tokenizer.encode(message.metadata() + "\n");
        int[] body = tokenizer.encode(content);
        int[] ids = new int[1 + header.length + body.length];
        ids[0] = message.role().tokenId();
        System.arraycopy(header, 0, ids, 1, header.length);
        System.arraycopy(body, 0, ids, 1 + header.length, body.length);
        return ids;
    }

    /**
     * The full prompt for a query after a history: {@code [gMASK] sop}, every history message, the query message,
     * then {@code <|assistant|>} for the model to answer. For a query without metadata or tools this is exactly the
     * reference {@code build_chat_input(query.content, history, role=query.role)}; metadata or tools on the query,
     * which the reference cannot express, are rendered like those of any other message.
     */
    public int[] buildPrompt(List<ChatMessage> history, ChatMessage query) {
        Objects.requireNonNull(query, "query");
        var ids = new IdBuffer();
        ids.add(PREFIX);
        for (ChatMessage m : history) {
            ids.add(buildMessage(m));
        }
        ids.add(buildMessage(query));
        ids.add(ChatGLMTokenizer.ASSISTANT);
        return ids.toArray();
    }

    /** {@link #buildPrompt(List, ChatMessage)} with the last message as the query. */
    public int[] buildPrompt(List<ChatMessage> messages) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a prompt needs at least one message");
        }
        return buildPrompt(messages.subList(0, messages.size() - 1), messages.getLast());
    }

    /**
     * Plain text as the reference tokenizer encodes it for completion (the base model's use): {@code [gMASK] sop}
     * followed by the text.
     */
    public int[] buildCompletion(String text) {
        return withPrefix(tokenizer.encode(text));
    }

    /** {@code [gMASK] sop} followed by {@code ids}: what the reference tokenizer puts before every input. */
    public static int[] withPrefix(int[] ids) {
        int[] out = new int[PREFIX.length + ids.length];
        System.arraycopy(PREFIX, 0, out, 0, PREFIX.length);
        System.arraycopy(ids, 0, out, PREFIX.length, ids.length);
        return out;
    }

    /**
     * The ids that continue a conversation whose ids are already in a KV cache: the new messages and
     * {@code <|assistant|>}, without the {@code [gMASK] sop} prefix. (The reference {@code stream_chat} adds the
     * prefix again here; leaving it out makes the ids of a whole conversation equal those of one full prompt.)
     * After a reply, the next continuation starts with the next message's role token, which is also the token that
     * stopped generation.
     */
    public int[] buildContinuation(List<ChatMessage> newMessages) {
        if (newMessages.isEmpty()) {
            throw new IllegalArgumentException("a continuation needs at least one message");
        }
        var ids = new IdBuffer();
        for (ChatMessage m : newMessages) {
            ids.add(buildMessage(m));
        }
        ids.add(ChatGLMTokenizer.ASSISTANT);
        return ids.toArray();
    }

    private static final class IdBuffer {
        private int[] data = new int[256];
        private int size;

        void add(int id) {
            ensure(1);
            data[size++] = id;
        }

        void add(int[] ids) {
            ensure(ids.length);
            System.arraycopy(ids, 0, data, size, ids.length);
            size += ids.length;
        }

        private void ensure(int more) {
            if (size + more > data.length) {
                data = Arrays.copyOf(data, Math.max(data.length * 2, size + more));
            }
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
