package io.github.chatglm4j;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ResponseParser;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.Generator;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.Sequence;
import io.github.chatglm4j.generate.TokenListener;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One conversation with its history and KV cache. Each turn feeds only its new tokens: the cache keeps the ids the
 * model actually generated, so a follow-up turn never re-reads the history. Use from one thread at a time.
 */
public final class ChatSession {
    /** The reference's default reply budget for chat is the whole context; we default to a practical bound. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 2048;

    private final ChatGLM glm;
    private final List<ChatMessage> initial;
    private final List<ChatMessage> history;
    private final Sequence sequence;
    private final Generator generator;
    /** A generated token that was not fed because a limit ended the reply; it precedes the next turn. */
    private int pendingToken = -1;

    ChatSession(ChatGLM glm, List<ChatMessage> initialHistory) {
        this.glm = glm;
        this.initial = List.copyOf(initialHistory);
        this.history = new ArrayList<>(initial);
        this.sequence = glm.newSequence();
        this.generator = new Generator(glm.tokenizer());
    }

    /** The conversation so far (a copy). */
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** Tokens of the conversation currently in the KV cache. */
    public int tokensUsed() {
        return sequence.length();
    }

    /** The KV cache and token sequence of this conversation. */
    public Sequence sequence() {
        return sequence;
    }

    /** Forgets the conversation except the messages it was created with (e.g. the system prompt). */
    public void reset() {
        history.clear();
        history.addAll(initial);
        sequence.reset();
        pendingToken = -1;
    }

    /** Sends a user message with the reference chat defaults and no streaming. */
    public ChatReply send(String userText) {
        return send(ChatMessage.user(userText), defaultOptions(), TokenListener.NONE);
    }

    /** Sends a user message with the reference chat defaults, streaming text to {@code listener}. */
    public ChatReply send(String userText, TokenListener listener) {
        return send(ChatMessage.user(userText), defaultOptions(), listener);
    }

    /**
     * Sends one message (user, or observation with a tool result) and generates the assistant's turn.
     * The message and the reply are appended to the history.
     */
    public ChatReply send(ChatMessage message, GenerationOptions options, TokenListener listener) {
        if (message.role() == Role.ASSISTANT) {
            throw new IllegalArgumentException("the message to send must come from the user, system or an observation, not the assistant");
        }
        int[] ids = promptFor(message);
        Generation gen = generator.generate(sequence, ids, options, listener);
        history.add(message);
        ResponseParser.Parsed parsed = ResponseParser.parse(gen.text(), declaresTools());
        history.addAll(parsed.messages());
        int[] out = gen.ids();
        pendingToken = gen.finishReason() == FinishReason.LENGTH && out.length > 0 ? out[out.length - 1] : -1;
        FinishReason reason = gen.finishReason();
        if (reason == FinishReason.STOP && !(parsed.reply() instanceof AssistantReply.Text)) {
            reason = FinishReason.TOOL_CALL;
        }
        return new ChatReply(parsed.reply(), gen.text(), parsed.messages(), reason, gen.withFinishReason(reason));
    }

    private int[] promptFor(ChatMessage message) {
        if (sequence.length() == 0) {
            return glm.prompts().buildPrompt(history, message);
        }
        int[] cached = sequence.tokens();
        int[] next = glm.prompts().buildContinuation(List.of(message));
        int extra = pendingToken >= 0 ? 1 : 0;
        int[] ids = Arrays.copyOf(cached, cached.length + extra + next.length);
        if (extra == 1) {
            ids[cached.length] = pendingToken;
        }
        System.arraycopy(next, 0, ids, cached.length + extra, next.length);
        return ids;
    }

    private boolean declaresTools() {
        return !history.isEmpty() && history.getFirst().role() == Role.SYSTEM && history.getFirst().tools() != null;
    }

    private static GenerationOptions defaultOptions() {
        return GenerationOptions.chat(SamplingParams.DEFAULTS, DEFAULT_MAX_NEW_TOKENS);
    }
}
