package io.github.chatglm4j.server.chat;

import io.github.chatglm4j.chat.PythonText;

/**
 * Turns decoded model output into the reply text a client sees, incrementally, so that the streamed deltas add up
 * to exactly the non-streamed content: leading and trailing whitespace removed (the reference strips replies; a
 * ChatGLM3 reply starts with the newline that ends its empty metadata line), and an {@code <|assistant|>} token
 * inside the reply (the model switching to a tool or code turn that is shown as text) replaced by a newline, with the
 * space its decoding leaves before the metadata dropped. Whitespace at the end and a possible start of
 * {@code <|assistant|>} are held back until the following text shows what they are.
 */
final class TextRenderer {
    static final String ASSISTANT = "<|assistant|>";

    private final StringBuilder heldSpace = new StringBuilder();
    private String partial = "";
    private boolean started;
    private boolean dropSpace;

    /** Feeds decoded text; returns the text that can be shown now. */
    String push(String text) {
        return render(partial + text, false);
    }

    /** Continues a reply whose text was shown by someone else: whitespace and {@code <|assistant|>} now separate. */
    void continueAfterText() {
        started = true;
    }

    /** Ends the reply: returns what was held back except trailing whitespace. */
    String finish() {
        String out = render(partial, true);
        heldSpace.setLength(0);
        return out;
    }

    private String render(String text, boolean last) {
        partial = "";
        var out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith(ASSISTANT, i)) {
                space('\n');
                dropSpace = true;
                i += ASSISTANT.length();
                continue;
            }
            if (!last && text.charAt(i) == '<' && ASSISTANT.startsWith(text.substring(i))) {
                partial = text.substring(i);
                break;
            }
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (dropSpace) {
                dropSpace = false;
                if (cp == ' ') {
                    continue;
                }
            }
            if (PythonText.isSpace(cp)) {
                space(cp);
            } else {
                out.append(heldSpace).appendCodePoint(cp);
                heldSpace.setLength(0);
                started = true;
            }
        }
        return out.toString();
    }

    private void space(int cp) {
        if (started) {
            heldSpace.appendCodePoint(cp);
        }
    }

    /** The whole rendering of a finished text at once (what {@code push} then {@code finish} give together). */
    static String render(String text) {
        var r = new TextRenderer();
        return r.push(text) + r.finish();
    }
}
