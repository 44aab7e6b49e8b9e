package io.github.chatglm4j.format.gguf;

/** Puts names and strings taken from a file into one-line error messages. */
public final class Quote {
    private static final int MAX_CHARS = 100;

    private Quote() {
    }

    /** {@code 'name'}, with control characters escaped and long names cut. */
    public static String of(String s) {
        String cut = s.length() > MAX_CHARS ? s.substring(0, MAX_CHARS) + "…(" + s.length() + " chars)" : s;
        return "'" + oneLine(cut) + "'";
    }

    /** The text with line breaks and other control characters written as escapes, so it stays on one line. */
    public static String oneLine(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean escape = type == Character.CONTROL || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR;
            if (escape && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                if (!escape) {
                    sb.append(c);
                } else if (c == '\n') {
                    sb.append("\\n");
                } else if (c == '\t') {
                    sb.append("\\t");
                } else if (c == '\r') {
                    sb.append("\\r");
                } else {
                    sb.append(String.format("\\u%04X", (int) c));
                }
            }
        }
        return sb == null ? s : sb.toString();
    }
}
