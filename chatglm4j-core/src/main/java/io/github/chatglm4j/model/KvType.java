package io.github.chatglm4j.model;

import java.util.Locale;

/**
 * How a {@link KvCache} stores keys and values. Attention reads them in this form and decodes a position's head
 * slice as it goes, so the cache is never expanded to float32.
 */
public enum KvType {
    /** 4 bytes per value, exact: what the reference computes with. */
    F32("f32"),
    /** IEEE half, 2 bytes per value: llama.cpp's default, and ours. */
    F16("f16"),
    /**
     * Blocks of 32 values of one position as int8 with one float32 scale ({@code max|x| / 127}): 1.125 bytes per
     * value. The last block of a position is shorter when the K/V width is not a multiple of 32.
     */
    Q8_0("q8_0");

    /** The type used when none is chosen. */
    public static final KvType DEFAULT = F16;

    /** Values per Q8_0 block. */
    static final int Q8_BLOCK = 32;

    private final String label;

    KvType(String label) {
        this.label = label;
    }

    /** The name used on the command line: f32, f16 or q8_0. */
    public String label() {
        return label;
    }

    /** Parses f32, f16 or q8_0 (any case); anything else is an IllegalArgumentException naming the choices. */
    public static KvType parse(String s) {
        String key = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        for (KvType t : values()) {
            if (t.label.equals(key)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown KV cache type '" + s + "' (expected f32, f16 or q8_0)");
    }

    /** Bytes of the keys (or of the values) of one position in one layer, {@code width} values. */
    long rowBytes(int width) {
        return switch (this) {
            case F32 -> 4L * width;
            case F16 -> 2L * width;
            case Q8_0 -> width + (long) Float.BYTES * blocks(width);
        };
    }

    /** Bytes that {@code positions} positions of keys and values take for every layer of this model. */
    public long bytes(ChatGLMConfig config, long positions) {
        return 2L * config.numLayers() * positions * rowBytes(config.kvSize());
    }

    static int blocks(int width) {
        return (width + Q8_BLOCK - 1) / Q8_BLOCK;
    }
}
