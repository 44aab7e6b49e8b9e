package io.github.chatglm4j;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;

import java.util.List;

/**
 * One assistant turn.
 *
 * @param reply        the parsed reply: text, a tool call with JSON arguments, code to run, or a malformed call
 * @param rawText      the decoded output, before parsing
 * @param messages     the assistant messages this turn added to the history
 * @param finishReason stop, length, tool call or cancelled
 * @param generation   token ids and timings
 */
public record ChatReply(AssistantReply reply, String rawText, List<ChatMessage> messages, FinishReason finishReason,
                        Generation generation) {

    public ChatReply {
        messages = List.copyOf(messages);
    }

    /** The reply's text when it is plain text, otherwise the last message's content. */
    public String text() {
        if (reply instanceof AssistantReply.Text t) {
            return t.content();
        }
        return messages.isEmpty() ? rawText : messages.getLast().content();
    }
}
