package io.github.chatglm4j.format.gguf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable little-endian byte buffer that knows the GGUF encodings of strings and values. */
final class ByteSink {
    private byte[] data;
    private int size;

    ByteSink(int capacity) {
        data = new byte[Math.max(16, capacity)];
    }

    int size() {
        return size;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(data, size);
    }

    private void ensure(int more) {
        if (more > Integer.MAX_VALUE - 16 - size) {
            throw new IllegalArgumentException("GGUF metadata larger than 2 GB");
        }
        if (size + more > data.length) {
            data = Arrays.copyOf(data, (int) Math.min(Integer.MAX_VALUE - 16L, Math.max(data.length * 2L, size + more)));
        }
    }

    void u8(int v) {
        ensure(1);
        data[size++] = (byte) v;
    }

    void u16(int v) {
        u8(v);
        u8(v >>> 8);
    }

    void u32(long v) {
        ensure(4);
        for (int i = 0; i < 4; i++) {
            data[size++] = (byte) (v >>> (8 * i));
        }
    }

    void u64(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) {
            data[size++] = (byte) (v >>> (8 * i));
        }
    }

    void bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, data, size, b.length);
        size += b.length;
    }

    void zeros(int n) {
        ensure(n);
        size += n; // the array is zero beyond size: only ever grows
    }

    void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        bytes(b);
    }

    /** The value without its type tag (array values include their element type and count). */
    void value(GgufValue v) {
        switch (v) {
            case GgufValue.Int i -> integer(i.type(), i.value());
            case GgufValue.Real r -> {
                if (r.type() == GgufType.FLOAT32) {
                    u32(Float.floatToRawIntBits((float) r.value()));
                } else {
                    u64(Double.doubleToRawLongBits(r.value()));
                }
            }
            case GgufValue.Bool b -> u8(b.value() ? 1 : 0);
            case GgufValue.Text t -> string(t.value());
            case GgufArray a -> {
                u32(a.elementType().id());
                u64(a.size());
                bytes(a.encodedElements());
            }
        }
    }

    void integer(GgufType type, long v) {
        switch (type.width()) {
            case 1 -> u8((int) v);
            case 2 -> u16((int) v);
            case 4 -> u32(v);
            default -> u64(v);
        }
    }
}
