package io.github.chatglm4j.server.http;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Header fields in arrival order; names compare case-insensitively. Small, so a list beats a map. */
public final class Headers {
    private final List<String[]> fields = new ArrayList<>();

    void add(String name, String value) {
        fields.add(new String[]{name, value});
    }

    /** The first value of {@code name}, or null. */
    public String first(String name) {
        for (String[] f : fields) {
            if (f[0].equalsIgnoreCase(name)) {
                return f[1];
            }
        }
        return null;
    }

    /** Every value of {@code name}, in order. */
    public List<String> all(String name) {
        List<String> out = new ArrayList<>(1);
        for (String[] f : fields) {
            if (f[0].equalsIgnoreCase(name)) {
                out.add(f[1]);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** Whether a comma-separated header (e.g. {@code Connection}) holds {@code token}, ignoring case. */
    public boolean hasToken(String name, String token) {
        for (String value : all(name)) {
            for (String t : value.split(",")) {
                if (t.strip().toLowerCase(Locale.ROOT).equals(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    public int size() {
        return fields.size();
    }
}
