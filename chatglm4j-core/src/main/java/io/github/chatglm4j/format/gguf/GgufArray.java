package io.github.chatglm4j.format.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A GGUF metadata array. It keeps its elements in their encoded form and decodes them when asked, so that a huge
 * element count costs bytes, not objects; the typed views ({@link #strings()}, {@link #floats()} ...) each build a
 * fresh copy. Nested arrays may have any element type of their own.
 */
public final class GgufArray implements GgufValue {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GgufType elementType;
    private final long size;
    /** The elements exactly as GGUF encodes them after the array's type and count. */
    private final byte[] encoded;

    /** {@code encoded} must be a well-formed encoding of {@code size} elements (checked by the parser or built here). */
    GgufArray(GgufType elementType, long size, byte[] encoded) {
        this.elementType = Objects.requireNonNull(elementType);
        this.size = size;
        this.encoded = encoded;
    }

    @Override
    public GgufType type() {
        return GgufType.ARRAY;
    }

    public GgufType elementType() {
        return elementType;
    }

    /** The number of elements. */
    public long size() {
        return size;
    }

    byte[] encodedElements() {
        return encoded;
    }

    // ---- factories ----

    public static GgufArray ofStrings(List<String> values) {
        var sink = new ByteSink(values.size() * 16);
        for (String s : values) {
            sink.string(new GgufValue.Text(s).value());
        }
        return new GgufArray(GgufType.STRING, values.size(), sink.toByteArray());
    }

    /** A {@code float32} array. */
    public static GgufArray ofFloats(float... values) {
        var sink = new ByteSink(values.length * 4);
        for (float v : values) {
            sink.u32(Float.floatToRawIntBits(v));
        }
        return new GgufArray(GgufType.FLOAT32, values.length, sink.toByteArray());
    }

    /** A {@code float64} array. */
    public static GgufArray ofDoubles(double... values) {
        var sink = new ByteSink(values.length * 8);
        for (double v : values) {
            sink.u64(Double.doubleToRawLongBits(v));
        }
        return new GgufArray(GgufType.FLOAT64, values.length, sink.toByteArray());
    }

    /** An {@code int32} array. */
    public static GgufArray ofInts(int... values) {
        return ofIntegers(GgufType.INT32, Arrays.stream(values).asLongStream().toArray());
    }

    /** An array of any integer type; every value must fit the type (uint64 takes the bits of a long). */
    public static GgufArray ofIntegers(GgufType type, long... values) {
        if (!type.isInteger()) {
            throw new IllegalArgumentException(type + " is not an integer type");
        }
        var sink = new ByteSink(values.length * type.width());
        for (long v : values) {
            sink.integer(type, new GgufValue.Int(type, v).value());
        }
        return new GgufArray(type, values.length, sink.toByteArray());
    }

    public static GgufArray ofBools(boolean... values) {
        var sink = new ByteSink(values.length);
        for (boolean v : values) {
            sink.u8(v ? 1 : 0);
        }
        return new GgufArray(GgufType.BOOL, values.length, sink.toByteArray());
    }

    /** An array of arrays (each inner array keeps its own element type). */
    public static GgufArray ofArrays(List<GgufArray> values) {
        var sink = new ByteSink(64);
        for (GgufArray a : values) {
            sink.value(a);
        }
        return new GgufArray(GgufType.ARRAY, values.size(), sink.toByteArray());
    }

    // ---- typed views ----

    /** The elements of a string array. */
    public List<String> strings() {
        require(elementType == GgufType.STRING, "string");
        var out = new ArrayList<String>(count());
        var seg = MemorySegment.ofArray(encoded);
        long pos = 0;
        for (int i = 0; i < size; i++) {
            int len = (int) seg.get(LONG, pos);
            out.add(new String(encoded, (int) pos + 8, len, StandardCharsets.UTF_8));
            pos += 8 + len;
        }
        return Collections.unmodifiableList(out);
    }

    /** The elements of a {@code float32} array. */
    public float[] floats() {
        require(elementType == GgufType.FLOAT32, "float32");
        float[] out = new float[count()];
        var seg = MemorySegment.ofArray(encoded);
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat(seg.get(INT, 4L * i));
        }
        return out;
    }

    /** The elements of a {@code float32} or {@code float64} array. */
    public double[] doubles() {
        require(elementType.isFloat(), "float");
        double[] out = new double[count()];
        var seg = MemorySegment.ofArray(encoded);
        for (int i = 0; i < out.length; i++) {
            out[i] = elementType == GgufType.FLOAT32 ? Float.intBitsToFloat(seg.get(INT, 4L * i))
                    : Double.longBitsToDouble(seg.get(LONG, 8L * i));
        }
        return out;
    }

    /** The elements of an integer array; uint64 values above {@link Long#MAX_VALUE} come out as negative longs. */
    public long[] longs() {
        require(elementType.isInteger(), "integer");
        long[] out = new long[count()];
        var seg = MemorySegment.ofArray(encoded);
        for (int i = 0; i < out.length; i++) {
            out[i] = integerAt(seg, elementType, (long) i * elementType.width());
        }
        return out;
    }

    /**
     * The elements of an integer array as ints.
     *
     * @throws IllegalStateException if an element does not fit in an int
     */
    public int[] ints() {
        long[] wide = longs();
        int[] out = new int[wide.length];
        for (int i = 0; i < out.length; i++) {
            long v = wide[i];
            if (v != (int) v || (elementType == GgufType.UINT64 && v < 0)) {
                throw new IllegalStateException("element " + i + " (" + (elementType == GgufType.UINT64 ? Long.toUnsignedString(v) : v)
                        + ") does not fit in a 32-bit int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    public boolean[] bools() {
        require(elementType == GgufType.BOOL, "bool");
        boolean[] out = new boolean[count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = encoded[i] != 0;
        }
        return out;
    }

    /** The elements of an array of arrays. */
    public List<GgufArray> arrays() {
        require(elementType == GgufType.ARRAY, "array");
        var out = new ArrayList<GgufArray>(count());
        var seg = MemorySegment.ofArray(encoded);
        long pos = 0;
        for (int i = 0; i < size; i++) {
            GgufType inner = GgufType.ofId(Integer.toUnsignedLong(seg.get(INT, pos)));
            long n = seg.get(LONG, pos + 4);
            long end = skip(seg, inner, n, pos + 12);
            out.add(new GgufArray(inner, n, Arrays.copyOfRange(encoded, (int) pos + 12, (int) end)));
            pos = end;
        }
        return Collections.unmodifiableList(out);
    }

    /** Every element as a value of its own (integers as {@link GgufValue.Int}, and so on). */
    public List<GgufValue> values() {
        return switch (elementType) {
            case STRING -> strings().stream().<GgufValue>map(GgufValue.Text::new).toList();
            case ARRAY -> List.copyOf(arrays());
            case BOOL -> {
                var out = new ArrayList<GgufValue>(count());
                for (boolean b : bools()) {
                    out.add(new GgufValue.Bool(b));
                }
                yield Collections.unmodifiableList(out);
            }
            case FLOAT32, FLOAT64 -> Arrays.stream(doubles()).<GgufValue>mapToObj(d -> new GgufValue.Real(elementType, d)).toList();
            default -> Arrays.stream(longs()).<GgufValue>mapToObj(v -> new GgufValue.Int(elementType, v)).toList();
        };
    }

    /** Reads one integer of {@code type} at {@code pos}, zero-extending the unsigned types. */
    static long integerAt(MemorySegment seg, GgufType type, long pos) {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong(seg.get(ValueLayout.JAVA_BYTE, pos));
            case INT8 -> seg.get(ValueLayout.JAVA_BYTE, pos);
            case UINT16 -> Short.toUnsignedLong(seg.get(SHORT, pos));
            case INT16 -> seg.get(SHORT, pos);
            case UINT32 -> Integer.toUnsignedLong(seg.get(INT, pos));
            case INT32 -> seg.get(INT, pos);
            case UINT64, INT64 -> seg.get(LONG, pos);
            default -> throw new IllegalArgumentException(type + " is not an integer type");
        };
    }

    /** The end of {@code n} well-formed elements of {@code type} that start at {@code pos}. */
    private static long skip(MemorySegment seg, GgufType type, long n, long pos) {
        switch (type) {
            case STRING -> {
                for (long i = 0; i < n; i++) {
                    pos += 8 + seg.get(LONG, pos);
                }
                return pos;
            }
            case ARRAY -> {
                for (long i = 0; i < n; i++) {
                    GgufType inner = GgufType.ofId(Integer.toUnsignedLong(seg.get(INT, pos)));
                    pos = skip(seg, inner, seg.get(LONG, pos + 4), pos + 12);
                }
                return pos;
            }
            default -> {
                return pos + n * type.width();
            }
        }
    }

    private void require(boolean ok, String wanted) {
        if (!ok) {
            throw new IllegalStateException("the array holds " + elementType.label() + " values, not " + wanted);
        }
    }

    private int count() {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("the array has " + size + " elements, too many for a Java array");
        }
        return (int) size;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType && a.size == size && Arrays.equals(a.encoded, encoded);
    }

    @Override
    public int hashCode() {
        return (elementType.hashCode() * 31 + Long.hashCode(size)) * 31 + Arrays.hashCode(encoded);
    }

    @Override
    public String toString() {
        return "array<" + elementType.label() + ">[" + size + "]";
    }
}
