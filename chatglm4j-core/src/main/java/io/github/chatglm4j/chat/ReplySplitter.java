package io.github.chatglm4j.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits an assistant turn into answer text and tool or code calls while it streams, following the layout that
 * {@link ResponseParser} reads after the fact: segments separated by a literal {@code <|assistant|>}, each starting
 * with a metadata line that is empty for text and names a tool (or {@code interpreter}) otherwise. The CLI, the
 * server and the agent runtime all show replies through it, so they agree on where text ends and a call begins.
 *
 * <p>Text and call bodies come out stripped as the parser strips them: leading whitespace of a segment is dropped,
 * trailing whitespace is held back until more text follows and dropped at the end, and so is a possible start of
 * {@code <|assistant|>}. A segment whose first line grows past {@link #MAX_METADATA} characters without a newline is
 * taken as text (no tool name is that long), so a reply without the usual leading newline still streams.
 *
 * <pre>{@code
 * var splitter = new ReplySplitter();
 * for (String piece : pieces) {
 *     for (ReplySplitter.Part part : splitter.push(piece)) { show(part); }
 * }
 * splitter.finish().forEach(this::show);
 * }</pre>
 */
public final class ReplySplitter {
    /** Past this many characters without a newline, a segment's first line is text, not a tool name. */
    static final int MAX_METADATA = 64;
    private static final String SEGMENT = Role.ASSISTANT.token();

    /** What a reply is made of, in order. */
    public sealed interface Part {
        /** Answer text. A text segment after an earlier segment starts with a "\n" part. */
        record Text(String text) implements Part {
        }

        /** A segment that calls a tool (or {@code interpreter}) begins; its body follows as {@link Code} parts. */
        record Call(String name) implements Part {
        }

        /** The body of the current call as the model writes it (for a tool, the fenced {@code tool_call(...)}). */
        record Code(String text) implements Part {
        }
    }

    private enum State { METADATA, LEADING_SPACE, BODY }

    private final StringBuilder pending = new StringBuilder();
    private final List<Part> early = new ArrayList<>();
    private State state = State.METADATA;
    private boolean inCall;
    private boolean emitted;

    /** A splitter for a reply generated right after {@code <|assistant|>}. */
    public ReplySplitter() {
    }

    /**
     * A splitter for a reply whose beginning was put into the prompt (e.g. a forced tool's name line): the prefill is
     * split as if it had been generated, and its parts come with those of the first {@link #push}.
     */
    public ReplySplitter(String prefill) {
        pending.append(prefill);
        drain(false, early);
    }

    /** Feeds decoded text; returns the parts it completes. */
    public List<Part> push(String text) {
        pending.append(text);
        List<Part> out = takeEarly();
        drain(false, out);
        return out;
    }

    /** Ends the reply: returns what was held back, without trailing whitespace. */
    public List<Part> finish() {
        List<Part> out = takeEarly();
        drain(true, out);
        pending.setLength(0);
        return out;
    }

    private List<Part> takeEarly() {
        List<Part> out = new ArrayList<>(early);
        early.clear();
        return out;
    }

    /** Whether the segment being read is a call (after a {@link Part.Call}). */
    public boolean inCall() {
        return inCall;
    }

    private void drain(boolean end, List<Part> out) {
        while (true) {
            switch (state) {
                case METADATA -> {
                    int newline = pending.indexOf("\n");
                    int segment = pending.indexOf(SEGMENT);
                    if (segment >= 0 && (newline < 0 || segment < newline)) {
                        startText(out); // a segment without a newline is text
                        continue;
                    }
                    if (newline >= 0) {
                        String metadata = PythonText.strip(pending.substring(0, newline));
                        pending.delete(0, newline + 1);
                        if (metadata.isEmpty()) {
                            startText(out);
                        } else {
                            inCall = true;
                            state = State.LEADING_SPACE;
                            emit(out, new Part.Call(metadata));
                        }
                        continue;
                    }
                    if (end || pending.length() > MAX_METADATA) {
                        startText(out);
                        continue;
                    }
                    return;
                }
                case LEADING_SPACE -> {
                    int i = 0;
                    while (i < pending.length() && PythonText.isSpace(pending.charAt(i))) {
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
                        body(out, PythonText.stripTrailing(pending.substring(0, segment)));
                        pending.delete(0, segment + SEGMENT.length());
                        state = State.METADATA;
                        continue;
                    }
                    int keep = heldBack(end ? 0 : partialSegment());
                    body(out, pending.substring(0, pending.length() - keep));
                    pending.delete(0, pending.length() - keep);
                    return;
                }
            }
        }
    }

    private void startText(List<Part> out) {
        inCall = false;
        state = State.LEADING_SPACE;
        if (emitted) {
            emit(out, new Part.Text("\n"));
        }
    }

    private void body(List<Part> out, String text) {
        if (!text.isEmpty()) {
            emit(out, inCall ? new Part.Code(text) : new Part.Text(text));
        }
    }

    private void emit(List<Part> out, Part part) {
        out.add(part);
        emitted = true;
    }

    /** The last {@code partial} characters of the pending text and the whitespace before them. */
    private int heldBack(int partial) {
        int n = partial;
        while (n < pending.length() && PythonText.isSpace(pending.charAt(pending.length() - 1 - n))) {
            n++;
        }
        return n;
    }

    /** Length of the longest suffix of the pending text that is a proper prefix of {@code <|assistant|>}. */
    private int partialSegment() {
        for (int n = Math.min(SEGMENT.length() - 1, pending.length()); n > 0; n--) {
            if (pending.indexOf(SEGMENT.substring(0, n), pending.length() - n) >= 0) {
                return n;
            }
        }
        return 0;
    }
}
