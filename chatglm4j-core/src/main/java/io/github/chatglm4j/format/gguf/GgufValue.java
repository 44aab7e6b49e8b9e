package io.github.chatglm4j.format.gguf;

import java.util.Objects;

/**
 * One GGUF metadata value: an integer, a float, a bool, a string or an array. Values are immutable and compare by
 * type and content, so a value read back from a file equals the value that was written.
 */
public sealed interface GgufValue permits GgufValue.Int, GgufValue.Real, GgufValue.Bool, GgufValue.Text, GgufArray {

    GgufType type();

    /**
     * An integer of one of the eight integer types. Unsigned values are held zero-extended; a {@code uint64} above
     * {@link Long#MAX_VALUE} is held as its two's complement bits (a negative long).
     */
    record Int(GgufType type, long value) implements GgufValue {
        public Int {
            Objects.requireNonNull(type, "type");
            if (!type.isInteger()) {
                throw new IllegalArgumentException(type + " is not an integer type");
            }
            boolean fits = switch (type) {
                case UINT8 -> value >= 0 && value <= 0xFF;
                case INT8 -> value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE;
                case UINT16 -> value >= 0 && value <= 0xFFFF;
                case INT16 -> value >= Short.MIN_VALUE && value <= Short.MAX_VALUE;
                case UINT32 -> value >= 0 && value <= 0xFFFF_FFFFL;
                case INT32 -> value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
                default -> true;
            };
            if (!fits) {
                throw new IllegalArgumentException(value + " does not fit in " + type.label());
            }
        }

        @Override
        public String toString() {
            return type.label() + " " + (type == GgufType.UINT64 ? Long.toUnsignedString(value) : Long.toString(value));
        }
    }

    /** A {@code float32} or {@code float64}; a float32 value is held exactly as the float it is. */
    record Real(GgufType type, double value) implements GgufValue {
        public Real {
            Objects.requireNonNull(type, "type");
            if (!type.isFloat()) {
                throw new IllegalArgumentException(type + " is not a float type");
            }
            if (type == GgufType.FLOAT32) {
                value = (float) value;
            }
        }

        @Override
        public String toString() {
            return type.label() + " " + (type == GgufType.FLOAT32 ? Float.toString((float) value) : Double.toString(value));
        }
    }

    record Bool(boolean value) implements GgufValue {
        @Override
        public GgufType type() {
            return GgufType.BOOL;
        }
    }

    /** A string; it must be encodable as UTF-8 (no unpaired surrogates). */
    record Text(String value) implements GgufValue {
        public Text {
            Objects.requireNonNull(value, "value");
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw new IllegalArgumentException("unpaired surrogate at index " + i + ": not encodable as UTF-8");
                }
            }
        }

        @Override
        public GgufType type() {
            return GgufType.STRING;
        }
    }

    static Int u8(int v) {
        return new Int(GgufType.UINT8, v);
    }

    static Int i8(int v) {
        return new Int(GgufType.INT8, v);
    }

    static Int u16(int v) {
        return new Int(GgufType.UINT16, v);
    }

    static Int i16(int v) {
        return new Int(GgufType.INT16, v);
    }

    static Int u32(long v) {
        return new Int(GgufType.UINT32, v);
    }

    static Int i32(int v) {
        return new Int(GgufType.INT32, v);
    }

    static Int u64(long bits) {
        return new Int(GgufType.UINT64, bits);
    }

    static Int i64(long v) {
        return new Int(GgufType.INT64, v);
    }

    static Real f32(float v) {
        return new Real(GgufType.FLOAT32, v);
    }

    static Real f64(double v) {
        return new Real(GgufType.FLOAT64, v);
    }

    static Bool bool(boolean v) {
        return new Bool(v);
    }

    static Text string(String v) {
        return new Text(v);
    }
}
