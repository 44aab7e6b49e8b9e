package io.github.chatglm4j.hub;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Writes the few Python pickles the ModelScope SDK keeps beside a model ({@code .mdl}: a dict, {@code .msc}: a
 * list of dicts, all strings), in pickle protocol 2 with the opcodes PROTO, EMPTY_LIST/EMPTY_DICT, MARK, BINUNICODE,
 * SETITEMS, APPENDS and STOP only. Nothing is ever unpickled here.
 */
final class PicklePlain {
    private PicklePlain() {
    }

    static byte[] dump(Object value) {
        var out = new ByteArrayOutputStream();
        out.write(0x80);
        out.write(2);
        write(out, value);
        out.write('.');
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, Object value) {
        switch (value) {
            case String s -> {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                out.write('X');
                for (int i = 0; i < 4; i++) {
                    out.write(b.length >>> (8 * i));
                }
                out.writeBytes(b);
            }
            case Map<?, ?> m -> {
                out.write('}');
                if (!m.isEmpty()) {
                    out.write('(');
                    m.forEach((k, v) -> {
                        write(out, k);
                        write(out, v);
                    });
                    out.write('u');
                }
            }
            case List<?> l -> {
                out.write(']');
                if (!l.isEmpty()) {
                    out.write('(');
                    l.forEach(e -> write(out, e));
                    out.write('e');
                }
            }
            default -> throw new IllegalArgumentException("cannot pickle " + value.getClass());
        }
    }
}
