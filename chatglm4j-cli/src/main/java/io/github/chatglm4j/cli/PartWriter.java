package io.github.chatglm4j.cli;

import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.ReplySplitter;

import java.io.PrintWriter;

/**
 * Writes a reply to the terminal as its parts stream in (text and code as they come, a call as a dim header line)
 * and keeps track of whether the cursor is in the middle of a line, so notes always start on a line of their own.
 */
final class PartWriter {
    private final PrintWriter out;
    private final Style style;
    private boolean lineOpen;

    /** @param lineOpen whether the cursor is after text on the current line (e.g. a "ChatGLM: " prompt) */
    PartWriter(PrintWriter out, Style style, boolean lineOpen) {
        this.out = out;
        this.style = style;
        this.lineOpen = lineOpen;
    }

    void write(ReplySplitter.Part part) {
        switch (part) {
            case ReplySplitter.Part.Call call ->
                    note(call.name().equals(ChatMessage.INTERPRETER) ? "[code interpreter]" : "[tool call: " + call.name() + "]");
            case ReplySplitter.Part.Text t when t.text().equals("\n") -> endLine(); // a new text segment
            case ReplySplitter.Part.Text t -> print(t.text());
            case ReplySplitter.Part.Code c -> print(c.text());
        }
    }

    /** Text as it is, continuing the current line. */
    void print(String text) {
        out.print(text);
        if (!text.isEmpty()) {
            lineOpen = !text.endsWith("\n");
        }
    }

    /** A dim line of its own. */
    void note(String text) {
        endLine();
        out.println(style.dim(text));
    }

    void endLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }

    /** Marks the cursor as after text on the current line (a prompt was printed). */
    void lineOpened() {
        lineOpen = true;
    }
}
