package io.github.chatglm4j.cli;

/** Bold and dim text on terminals; nothing added elsewhere (scripts and logs must not see escape codes). */
enum Style {
    PLAIN, ANSI;

    static Style forTerminal(boolean terminal) {
        return terminal ? ANSI : PLAIN;
    }

    String bold(String s) {
        return this == ANSI ? "\u001b[1m" + s + "\u001b[0m" : s;
    }

    String dim(String s) {
        return this == ANSI ? "\u001b[2m" + s + "\u001b[0m" : s;
    }
}
