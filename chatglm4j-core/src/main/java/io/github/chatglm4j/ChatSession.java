package io.github.chatglm4j;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ResponseParser;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.generate.BatchRequest;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.TokenListener;
import io.github.chatglm4j.generate.TokenStream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One conversation: its history and the token ids the model has seen and produced. Each turn sends the whole
 * conversation's ids to the model's scheduler, which keeps the KV cache of the previous turn and so computes only
 * the new tokens; the ids are those the model actually generated, never a re-encoding of their text. Use from one
 * thread at a time.
 */
public final class ChatSession {
    /** The reference's default reply budget for chat is the whole context; we default to a practical bound. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 2048;

    private final ChatGLM glm;
    private final List<ChatMessage> initial;
    private final List<ChatMessage> history;
    /** The prompt and reply ids of every turn so far. */
    private int[] ids = new int[0];

    ChatSession(ChatGLM glm, List<ChatMessage> initialHistory) {
        this.glm = glm;
        this.initial = List.copyOf(initialHistory);
        this.history = new ArrayList<>(initial);
    }

    /** The conversation so far (a copy). */
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** Tokens of the conversation so far (prompts and replies). */
    public int tokensUsed() {
        return ids.length;
    }

    /** The token ids of the conversation so far (a copy). */
    public int[] ids() {
        return ids.clone();
    }

    /** Forgets the conversation except the messages it was created with (e.g. the system prompt). */
    public void reset() {
        history.clear();
        history.addAll(initial);
        ids = new int[0];
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
     * Sends one message (user, or observation with a tool result) and generates the assistant's turn, streaming its
     * text to {@code listener} on this thread. The message and the reply are appended to the history.
     *
     * @throws io.github.chatglm4j.generate.ContextOverflowException if the conversation no longer fits the context
     *                                                               (the session is unchanged)
     */
    public ChatReply send(ChatMessage message, GenerationOptions options, TokenListener listener) {
        if (message.role() == Role.ASSISTANT) {
            throw new IllegalArgumentException("the message to send must come from the user, system or an observation, not the assistant");
        }
        int[] prompt = promptFor(message);
        Generation gen = TokenStream.submit(glm.scheduler(), new BatchRequest(prompt, options)).drain(listener::onToken);
        history.add(message);
        ResponseParser.Parsed parsed = ResponseParser.parse(gen.text(), history);
        history.addAll(parsed.messages());
        int[] reply = gen.ids();
        ids = Arrays.copyOf(prompt, prompt.length + reply.length);
        System.arraycopy(reply, 0, ids, prompt.length, reply.length);
        FinishReason reason = gen.finishReason();
        if (reason == FinishReason.STOP && !(parsed.reply() instanceof AssistantReply.Text)) {
            reason = FinishReason.TOOL_CALL;
        }
        return new ChatReply(parsed.reply(), gen.text(), parsed.messages(), reason, gen.withFinishReason(reason));
    }

    /**
     * The first turn is the full prompt; later turns are the conversation's ids followed by the new message (the
     * next role token is also the token that ended the previous reply, which was never fed).
     */
    private int[] promptFor(ChatMessage message) {
        if (ids.length == 0) {
            return glm.prompts().buildPrompt(history, message);
        }
        int[] next = glm.prompts().buildContinuation(List.of(message));
        int[] prompt = Arrays.copyOf(ids, ids.length + next.length);
        System.arraycopy(next, 0, prompt, ids.length, next.length);
        return prompt;
    }

    private static GenerationOptions defaultOptions() {
        return GenerationOptions.chat(SamplingParams.DEFAULTS, DEFAULT_MAX_NEW_TOKENS);
    }
}
