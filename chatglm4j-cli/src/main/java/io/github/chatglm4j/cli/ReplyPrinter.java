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
    private final Style style;
    private final ReplySplitter splitter = new ReplySplitter();
    private boolean lineOpen;

    /** @param lineOpen whether the cursor is after text on the current line (e.g. a "ChatGLM: " prompt) */
    ReplyPrinter(PrintWriter out, Style style, boolean lineOpen) {
        this.out = out;
        this.style = style;
        this.lineOpen = lineOpen;
    }

    @Override
    public void onToken(int id, String text) {
        splitter.push(text).forEach(this::print);
        out.flush();
    }

    /** Prints what is still held back, ends the line and describes a call. */
    void finish(AssistantReply reply) {
        splitter.finish().forEach(this::print);
        endLine();
        String note = switch (reply) {
            case AssistantReply.Text t -> null;
            case AssistantReply.ToolCall call -> "→ call " + call.name() + " with " + call.arguments();
            case AssistantReply.CodeInterpreter code -> "→ code for the interpreter (the CLI does not run code)";
            case AssistantReply.MalformedToolCall bad -> "→ " + bad.error();
        };
        if (note != null) {
            out.println(style.dim(note));
        }
        out.flush();
    }

    private void print(ReplySplitter.Part part) {
        switch (part) {
            case ReplySplitter.Part.Call call -> {
                endLine();
                out.println(style.dim(call.name().equals("interpreter") ? "[code interpreter]" : "[tool call: " + call.name() + "]"));
            }
            case ReplySplitter.Part.Text t when t.text().equals("\n") -> endLine(); // a new text segment
            case ReplySplitter.Part.Text t -> emit(t.text());
            case ReplySplitter.Part.Code c -> emit(c.text());
        }
    }

    private void emit(String text) {
        out.print(text);
        lineOpen = !text.endsWith("\n");
    }

    private void endLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }
}
