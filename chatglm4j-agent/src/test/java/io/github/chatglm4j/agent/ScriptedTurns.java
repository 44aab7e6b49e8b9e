package io.github.chatglm4j.agent;

import io.github.chatglm4j.ChatReply;
import io.github.chatglm4j.agent.testing.Fixtures;
import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.chat.ResponseParser;
import io.github.chatglm4j.generate.FinishReason;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.TokenListener;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A model whose replies are scripted, behind the real chat protocol: every prompt is built by the library's
 * PromptBuilder from the history (and recorded, to compare with the reference format), every reply is parsed by the
 * real ResponseParser, and the reply's text is streamed a character at a time with cancellation checked in between.
 */
final class ScriptedTurns implements TurnGenerator {
    /** The decoded text the model "generates" for the n-th prompt (0-based), as HF decoding would give it. */
    @FunctionalInterface
    interface Script {
        String reply(int n, String promptText);
    }

    private final PromptBuilder prompts = new PromptBuilder(Fixtures.tokenizer());
    private final List<ChatMessage> history;
    private final Script script;
    final List<int[]> sentPrompts = new ArrayList<>();

    ScriptedTurns(List<ChatMessage> initial, Script script) {
        this.history = new ArrayList<>(initial);
        this.script = script;
    }

    static ScriptedTurns replies(List<ChatMessage> initial, String... replies) {
        return new ScriptedTurns(initial, (n, prompt) -> replies[n]);
    }

    @Override
    public ChatReply send(ChatMessage message, TokenListener listener, BooleanSupplier cancelled) {
        int[] prompt = prompts.buildPrompt(history, message);
        sentPrompts.add(prompt);
        String full = script.reply(sentPrompts.size() - 1, Fixtures.tokenizer().decode(prompt));
        var out = new StringBuilder();
        FinishReason reason = FinishReason.STOP;
        for (int i = 0; i < full.length(); ) {
            if (cancelled.getAsBoolean()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int next = full.offsetByCodePoints(i, 1);
            String piece = full.substring(i, next);
            out.append(piece);
            listener.onToken(0, piece);
            i = next;
        }
        String text = out.toString();
        history.add(message);
        ResponseParser.Parsed parsed = ResponseParser.parse(text, history);
        history.addAll(parsed.messages());
        if (reason == FinishReason.STOP && !(parsed.reply() instanceof AssistantReply.Text)) {
            reason = FinishReason.TOOL_CALL;
        }
        int[] ids = Fixtures.tokenizer().encode(text);
        var generation = new Generation(prompt.length, prompt.length, ids, text, reason, -1, null, 0, 0);
        return new ChatReply(parsed.reply(), text, parsed.messages(), reason, generation);
    }

    @Override
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }
}
