package io.github.chatglm4j.generate;

import java.util.List;

/**
 * Finds stop strings in text that arrives in pieces. Text is passed on as soon as it cannot be part of a stop
 * string; a tail that could still grow into one is held back until the next piece decides. After a stop string,
 * nothing more passes.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private String matched;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Feeds a piece; returns the text that is certainly before any stop string. */
    String push(String piece) {
        if (matched != null) {
            return "";
        }
        if (stops.isEmpty()) {
            return piece;
        }
        held.append(piece);
        int first = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
                matched = s;
            }
        }
        if (first >= 0) {
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = 0;
        for (String s : stops) {
            keep = Math.max(keep, overlap(held, s));
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** The text held back at the end (it was not a stop string after all). */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    boolean stopped() {
        return matched != null;
    }

    /** The stop string that was found, or null. */
    String matched() {
        return matched;
    }

    /** Length of the longest suffix of {@code text} that is a proper prefix of {@code stop}. */
    private static int overlap(StringBuilder text, String stop) {
        for (int n = Math.min(stop.length() - 1, text.length()); n > 0; n--) {
            if (text.indexOf(stop.substring(0, n), text.length() - n) >= 0) {
                return n;
            }
        }
        return 0;
    }
}
