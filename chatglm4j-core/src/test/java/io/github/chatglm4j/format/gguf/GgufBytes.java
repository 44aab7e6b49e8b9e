package io.github.chatglm4j.format.gguf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal little-endian byte writer for building GGUF files by hand in tests, written from the format description
 * and independent of the engine's GgufWriter. It remembers where named fields start so that tests can corrupt them.
 */
public final class GgufBytes {
    private byte[] data = new byte[256];
    private int size;
    /** Field name to its offset in the file. */
    public final Map<String, Integer> fields = new LinkedHashMap<>();

    public GgufBytes mark(String name) {
        fields.put(name, size);
        return this;
    }

    public int size() {
        return size;
    }

    private void put(long v, int bytes) {
        if (size + bytes > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, size + bytes));
        }
        for (int i = 0; i < bytes; i++) {
            data[size++] = (byte) (v >>> (8 * i));
        }
    }

    public GgufBytes u8(int v) {
        put(v, 1);
        return this;
    }

    public GgufBytes u16(int v) {
        put(v, 2);
        return this;
    }

    public GgufBytes u32(long v) {
        put(v, 4);
        return this;
    }

    public GgufBytes u64(long v) {
        put(v, 8);
        return this;
    }

    public GgufBytes f32(float v) {
        return u32(Float.floatToRawIntBits(v));
    }

    public GgufBytes f64(double v) {
        return u64(Double.doubleToRawLongBits(v));
    }

    public GgufBytes raw(byte... b) {
        for (byte x : b) {
            put(x, 1);
        }
        return this;
    }

    public GgufBytes str(String s) {
        return rawString(s.getBytes(StandardCharsets.UTF_8));
    }

    public GgufBytes rawString(byte[] utf8) {
        u64(utf8.length);
        return raw(utf8);
    }

    /** "GGUF", version, tensor count, metadata count. */
    public GgufBytes header(int version, long tensors, long entries) {
        raw((byte) 'G', (byte) 'G', (byte) 'U', (byte) 'F');
        mark("version").u32(version);
        mark("tensor_count").u64(tensors);
        return mark("kv_count").u64(entries);
    }

    /** A metadata key followed by its value type; the value comes next. */
    public GgufBytes key(String key, int type) {
        mark("key:" + key).str(key);
        return mark("type:" + key).u32(type);
    }

    /** A tensor info with named fields "t:NAME.ndims", ".ne0" ..., ".type", ".offset". */
    public GgufBytes tensorInfo(String name, int ggmlType, long offset, long... ne) {
        mark("t:" + name + ".name").str(name);
        mark("t:" + name + ".ndims").u32(ne.length);
        for (int i = 0; i < ne.length; i++) {
            mark("t:" + name + ".ne" + i).u64(ne[i]);
        }
        mark("t:" + name + ".type").u32(ggmlType);
        return mark("t:" + name + ".offset").u64(offset);
    }

    public GgufBytes padTo(int alignment) {
        while (size % alignment != 0) {
            put(0, 1);
        }
        return this;
    }

    /** A metadata value in GGUF encoding, written from the engine's public value model. */
    public GgufBytes value(GgufValue v) {
        switch (v) {
            case GgufValue.Int i -> put(i.value(), width(i.type()));
            case GgufValue.Real r -> {
                if (r.type() == GgufType.FLOAT32) {
                    f32((float) r.value());
                } else {
                    f64(r.value());
                }
            }
            case GgufValue.Bool b -> u8(b.value() ? 1 : 0);
            case GgufValue.Text t -> str(t.value());
            case GgufArray a -> {
                u32(a.elementType().id());
                mark("count:" + System.identityHashCode(a)).u64(a.size());
                for (GgufValue e : a.values()) {
                    value(e);
                }
            }
        }
        return this;
    }

    private static int width(GgufType t) {
        return switch (t) {
            case UINT8, INT8 -> 1;
            case UINT16, INT16 -> 2;
            case UINT32, INT32 -> 4;
            default -> 8;
        };
    }

    public byte[] toBytes() {
        return Arrays.copyOf(data, size);
    }

    public Path writeTo(Path file) throws IOException {
        Files.write(file, toBytes());
        return file;
    }
}
