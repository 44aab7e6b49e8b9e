package io.github.chatglm4j.cli;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.ReplySplitter;
import io.github.chatglm4j.generate.TokenListener;

import java.io.PrintWriter;

/**
 * Streams an assistant turn as the user should see it: text as it comes (stripped, as the parsed reply is), a call
 * as a header line and its code as generated ({@link ReplySplitter} decides which is which); after the turn,
 * {@link #finish} adds what the parser made of a call.
 */
final class ReplyPrinter implements TokenListener {
    private final PrintWriter out;
    private final PartWriter writer;
    private final ReplySplitter splitter = new ReplySplitter();

    /** @param lineOpen whether the cursor is after text on the current line (e.g. a "ChatGLM: " prompt) */
    ReplyPrinter(PrintWriter out, Style style, boolean lineOpen) {
        this.out = out;
        this.writer = new PartWriter(out, style, lineOpen);
    }

    @Override
    public void onToken(int id, String text) {
        splitter.push(text).forEach(writer::write);
        out.flush();
    }

    /** Prints what is still held back, ends the line and describes a call. */
    void finish(AssistantReply reply) {
        splitter.finish().forEach(writer::write);
        writer.endLine();
        String note = switch (reply) {
            case AssistantReply.Text t -> null;
            case AssistantReply.ToolCall call -> "→ call " + call.name() + " with " + call.arguments();
            case AssistantReply.CodeInterpreter code -> "→ code for the interpreter (run it with --interpreter)";
            case AssistantReply.MalformedToolCall bad -> "→ " + bad.error();
        };
        if (note != null) {
            writer.note(note);
        }
        out.flush();
    }
}
