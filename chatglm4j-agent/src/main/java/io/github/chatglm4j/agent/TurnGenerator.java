package io.github.chatglm4j.agent;

import io.github.chatglm4j.ChatReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.generate.TokenListener;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The model side of the agent loop: one message in, one assistant turn out, its text streamed as it is generated.
 * {@link SessionTurns} is the real one, over a {@link io.github.chatglm4j.ChatSession}; tests script one.
 */
public interface TurnGenerator {

    /**
     * Sends a user or observation message and generates the assistant's turn; the message and the reply's assistant
     * messages join the history.
     *
     * @param listener  receives the reply's text as it is generated, on this thread
     * @param cancelled polled while generating; true ends the turn early with {@code FinishReason.CANCELLED}
     */
    ChatReply send(ChatMessage message, TokenListener listener, BooleanSupplier cancelled);

    /** The conversation so far, every assistant call with its metadata (the tool name, or {@code interpreter}). */
    List<ChatMessage> history();
}
