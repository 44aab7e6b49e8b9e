package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parses the header of a GGUF v2/v3 file and locates every tensor in the mapping. */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /**
     * Real headers (metadata with the vocabulary, tensor list) are a few MB; a larger one is refused before it can
     * make the reader allocate without bound.
     */
    static final long MAX_HEADER = 64L << 20;
    static final long MAX_ENTRIES = 1 << 16;
    static final long MAX_TENSORS = 1 << 18;
    static final long MAX_KEY = 65535;
    static final int MAX_DIMS = 4;
    static final int MAX_NESTING = 8;

    record Parsed(int version, Map<String, GgufValue> metadata, List<GgufTensor> tensors, long alignment, long dataOffset) {
    }

    private GgufParser() {
    }

    static Parsed parse(Path file, MemorySegment map) {
        long size = map.byteSize();
        if (size < 4) {
            throw new ModelFormatException(file, "not a GGUF file: only " + size + " bytes");
        }
        int magic = map.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (magic != MAGIC) {
            throw new ModelFormatException(file, "not a GGUF file: it starts with " + hex(map) + ", not 'GGUF'");
        }
        var in = new Cursor(file, map, 4, MAX_HEADER, "the " + (MAX_HEADER >> 20) + " MiB header limit");
        long version = in.u32("version");
        if (version == 1) {
            throw in.fail("GGUF version 1 is not supported (the 2023 format with 32-bit counts); convert the model again with a current llama.cpp");
        }
        if (version != 2 && version != 3) {
            long swapped = Integer.toUnsignedLong(Integer.reverseBytes((int) version));
            if (swapped >= 1 && swapped <= 3) {
                throw in.fail("big-endian GGUF file (version " + swapped + " stored byte-swapped); only little-endian files are supported");
            }
            throw in.fail("unsupported GGUF version " + version + " (this reader supports versions 2 and 3)");
        }
        long tensorCount = in.count("tensor count", 24, MAX_TENSORS);
        long entryCount = in.count("metadata entry count", 13, MAX_ENTRIES);

        var metadata = new LinkedHashMap<String, GgufValue>();
        for (long i = 0; i < entryCount; i++) {
            String key = in.string("key of metadata entry " + i, MAX_KEY);
            if (metadata.containsKey(key)) {
                throw in.fail("metadata key " + Quote.of(key) + " appears twice");
            }
            long typeId = in.u32("value type of " + Quote.of(key));
            metadata.put(key, value(in, key, typeId));
        }
        long alignment = alignment(in, metadata.get(ALIGNMENT_KEY));

        var infos = new ArrayList<Info>((int) Math.min(tensorCount, 1024));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            Info t = info(in, i);
            if (!names.add(t.name)) {
                throw in.fail("tensor " + Quote.of(t.name) + " appears twice");
            }
            infos.add(t);
        }
        long dataOffset = alignUp(in.pos(), alignment);
        var tensors = new ArrayList<GgufTensor>(infos.size());
        for (Info t : infos) {
            tensors.add(locate(in, map, t, alignment, dataOffset));
        }
        return new Parsed((int) version, Collections.unmodifiableMap(metadata), Collections.unmodifiableList(tensors), alignment, dataOffset);
    }

    private static GgufValue value(Cursor in, String key, long typeId) {
        GgufType type = GgufType.ofId(typeId);
        if (type == null) {
            throw in.fail("metadata " + Quote.of(key) + " has unknown value type " + typeId);
        }
        String what = "value of " + Quote.of(key);
        return switch (type) {
            case STRING -> new GgufValue.Text(in.string(what, Long.MAX_VALUE));
            case BOOL -> new GgufValue.Bool(in.u8(what) != 0);
            case FLOAT32 -> new GgufValue.Real(type, Float.intBitsToFloat((int) in.u32(what)));
            case FLOAT64 -> new GgufValue.Real(type, Double.longBitsToDouble(in.u64(what)));
            case ARRAY -> array(in, key, 0);
            default -> new GgufValue.Int(type, in.integer(type, what));
        };
    }

    /** Checks an array's encoding (lengths, UTF-8, nesting) and keeps a copy of its element bytes. */
    private static GgufArray array(Cursor in, String key, int depth) {
        long elementTypeId = in.u32("element type of array " + Quote.of(key));
        GgufType elementType = GgufType.ofId(elementTypeId);
        if (elementType == null) {
            throw in.fail("array " + Quote.of(key) + " has unknown element type " + elementTypeId);
        }
        String what = "array " + Quote.of(key);
        long minBytes = switch (elementType) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> elementType.width();
        };
        long n = in.count("element count of " + what, minBytes, Long.MAX_VALUE);
        long start = in.pos();
        switch (elementType) {
            case STRING -> {
                for (long i = 0; i < n; i++) {
                    in.skipString("element " + i + " of " + what);
                }
            }
            case ARRAY -> {
                if (depth + 1 >= MAX_NESTING) {
                    throw in.fail(what + " nests arrays more than " + MAX_NESTING + " deep");
                }
                for (long i = 0; i < n; i++) {
                    array(in, key + "[" + i + "]", depth + 1);
                }
            }
            default -> in.skip(n * elementType.width(), what);
        }
        return new GgufArray(elementType, n, in.bytesFrom(start));
    }

    private static long alignment(Cursor in, GgufValue v) {
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!(v instanceof GgufValue.Int i) || i.type() != GgufType.UINT32) {
            throw in.fail(ALIGNMENT_KEY + " must be a uint32, found " + v);
        }
        long a = i.value();
        if (a == 0 || (a & (a - 1)) != 0) {
            throw in.fail(ALIGNMENT_KEY + " is " + a + ", not a power of two");
        }
        return a;
    }

    private record Info(String name, long[] ne, TensorType type, long offset) {
    }

    private static Info info(Cursor in, long index) {
        String name = in.string("name of tensor " + index, MAX_KEY);
        String what = "tensor " + Quote.of(name);
        long nDims = in.u32("dimension count of " + what);
        if (nDims > MAX_DIMS) {
            throw in.fail(what + " has " + nDims + " dimensions, at most " + MAX_DIMS + " are allowed");
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < ne.length; d++) {
            ne[d] = in.u64("dimension " + d + " of " + what);
            if (ne[d] < 0) {
                throw in.fail(what + " has dimension " + d + " = " + Long.toUnsignedString(ne[d]) + ", too large");
            }
        }
        long typeId = in.u32("type of " + what);
        TensorType type = typeId <= Integer.MAX_VALUE ? TensorType.fromGgmlId((int) typeId).orElse(null) : null;
        if (type == null) {
            throw in.fail(what + " has " + GgmlTypes.describe(typeId) + ", which chatglm4j cannot read (supported: "
                    + GgmlTypes.supported() + ")");
        }
        long offset = in.u64("data offset of " + what);
        if (offset < 0) {
            throw in.fail(what + " has data offset " + Long.toUnsignedString(offset) + ", past any file");
        }
        return new Info(name, ne, type, offset);
    }

    private static GgufTensor locate(Cursor in, MemorySegment map, Info t, long alignment, long dataOffset) {
        String what = "tensor " + Quote.of(t.name) + " " + Arrays.toString(t.ne) + " " + t.type;
        long elements = 1;
        try {
            for (long d : t.ne) {
                elements = Math.multiplyExact(elements, d);
            }
        } catch (ArithmeticException e) {
            throw in.fail(what + " has more than 2^63 elements");
        }
        int block = t.type.blockSize();
        if (t.ne.length > 0 && t.ne[0] % block != 0) {
            throw in.fail(what + ": row length " + t.ne[0] + " is not a multiple of the " + t.type + " block size " + block);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(elements / block, (long) t.type.bytesPerBlock());
        } catch (ArithmeticException e) {
            throw in.fail(what + " is larger than 2^63 bytes");
        }
        if (t.offset % alignment != 0) {
            throw in.fail(what + " has data offset " + t.offset + ", not a multiple of the alignment " + alignment);
        }
        long available = map.byteSize() - dataOffset; // negative when the data section would start past the end
        if (t.offset > available || bytes > available - t.offset) {
            throw in.fail(what + " needs bytes " + t.offset + " to " + (t.offset + bytes) + " of the data section, which holds only "
                    + Math.max(0, available) + " bytes (file truncated?)");
        }
        MemorySegment data = map.asSlice(dataOffset + t.offset, bytes);
        return new GgufTensor(t.name, t.type, t.ne, t.offset, data);
    }

    static long alignUp(long pos, long alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    private static String hex(MemorySegment map) {
        var sb = new StringBuilder("0x");
        for (int i = 0; i < 4; i++) {
            sb.append(String.format("%02X", map.get(ValueLayout.JAVA_BYTE, i)));
        }
        return sb.toString();
    }
}
