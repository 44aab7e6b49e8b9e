package io.github.chatglm4j.agent.interpreter;

import java.util.regex.Pattern;

/** Removes terminal escape sequences, as the reference demo does before a traceback reaches the model. */
final class Ansi {
    /** CSI sequences, introduced by ESC [ or the one-byte CSI (0x9B): parameters, intermediates, a final byte. */
    private static final Pattern CSI = Pattern.compile("(?:\u009b|\u001b\\[)[0-?]*[ -/]*[@-~]");

    private Ansi() {
    }

    static String strip(String s) {
        return s == null ? null : CSI.matcher(s).replaceAll("");
    }
}
