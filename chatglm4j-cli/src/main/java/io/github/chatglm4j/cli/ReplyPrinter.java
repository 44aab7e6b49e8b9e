package io.github.chatglm4j.cli;

import io.github.chatglm4j.chat.AssistantReply;
import io.github.chatglm4j.chat.Role;
import io.github.chatglm4j.generate.TokenListener;

import java.io.PrintWriter;

/**
 * Streams an assistant turn as the user should see it, following the layout {@code ResponseParser} reads after
 * the fact: each segment (segments are separated by a literal {@code <|assistant|>}) starts with a metadata line
 * that is empty for text and names a tool or {@code interpreter} otherwise. Text is shown stripped, as the parsed
 * reply is; a call gets a header line and its code as generated; after the turn, {@link #finish} adds what the
 * parser made of a call.
 */
final class ReplyPrinter implements TokenListener {
    private static final String SEGMENT = Role.ASSISTANT.token();
    /** A metadata line is a tool name; past this many characters without a newline the segment is taken as text. */
    private static final int MAX_METADATA = 64;

    private enum State { METADATA, LEADING_SPACE, BODY }

    private final PrintWriter out;
    private final Style style;
    private final StringBuilder pending = new StringBuilder();
    private State state = State.METADATA;
    private boolean lineOpen;

    /** @param lineOpen whether the cursor is after text on the current line (e.g. a "ChatGLM: " prompt) */
    ReplyPrinter(PrintWriter out, Style style, boolean lineOpen) {
        this.out = out;
        this.style = style;
        this.lineOpen = lineOpen;
    }

    @Override
    public void onToken(int id, String text) {
        pending.append(text);
        drain(false);
        out.flush();
    }

    /** Prints what is still held back, ends the line and describes a call. */
    void finish(AssistantReply reply) {
        drain(true);
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

    private void drain(boolean end) {
        while (true) {
            switch (state) {
                case METADATA -> {
                    int newline = pending.indexOf("\n");
                    int segment = pending.indexOf(SEGMENT);
                    if (segment >= 0 && (newline < 0 || segment < newline)) {
                        state = State.LEADING_SPACE; // a segment without a newline is text
                        continue;
                    }
                    if (newline >= 0) {
                        String metadata = pending.substring(0, newline).strip();
                        pending.delete(0, newline + 1);
                        if (!metadata.isEmpty()) {
                            header(metadata);
                        }
                        state = State.LEADING_SPACE; // a call's body is stripped too (" ```python" after decoding)
                        continue;
                    }
                    if (end || pending.length() > MAX_METADATA) {
                        state = State.LEADING_SPACE;
                        continue;
                    }
                    return;
                }
                case LEADING_SPACE -> {
                    int i = 0;
                    while (i < pending.length() && Character.isWhitespace(pending.charAt(i))) {
                        i++;
                    }
                    pending.delete(0, i);
                    if (pending.isEmpty()) {
                        return;
                    }
                    state = State.BODY;
                }
                case BODY -> {
                    int segment = pending.indexOf(SEGMENT);
                    if (segment >= 0) {
                        emit(pending.substring(0, segment).stripTrailing());
                        pending.delete(0, segment + SEGMENT.length());
                        endLine();
                        state = State.METADATA;
                        continue;
                    }
                    // Hold back trailing whitespace (the parsed reply is stripped) and a possible start of <|assistant|>.
                    int keep = heldBack(end ? 0 : partialSegment());
                    emit(pending.substring(0, pending.length() - keep));
                    pending.delete(0, pending.length() - keep);
                    if (end) {
                        pending.setLength(0);
                    }
                    return;
                }
            }
        }
    }

    private void header(String metadata) {
        endLine();
        out.println(style.dim(metadata.equals("interpreter") ? "[code interpreter]" : "[tool call: " + metadata + "]"));
    }

    private void emit(String text) {
        if (!text.isEmpty()) {
            out.print(text);
            lineOpen = !text.endsWith("\n");
        }
    }

    private void endLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }

    /** The {@code partial} last characters and the whitespace before them. */
    private int heldBack(int partial) {
        int n = partial;
        while (n < pending.length() && Character.isWhitespace(pending.charAt(pending.length() - 1 - n))) {
            n++;
        }
        return n;
    }

    /** Length of the longest suffix of the pending text that is a proper prefix of {@code <|assistant|>}. */
    private int partialSegment() {
        for (int n = Math.min(SEGMENT.length() - 1, pending.length()); n > 0; n--) {
            if (pending.substring(pending.length() - n).equals(SEGMENT.substring(0, n))) {
                return n;
            }
        }
        return 0;
    }
}
