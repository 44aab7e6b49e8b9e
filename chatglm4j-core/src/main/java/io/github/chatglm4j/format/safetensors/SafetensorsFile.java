package io.github.chatglm4j.format.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.tensor.TensorType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, a JSON header describing each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Tensors are slices of one read-only
 * mapping; nothing is copied.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers of real checkpoints are a few tens of KB; refuse absurd sizes before allocating. */
    private static final long MAX_HEADER = 100L << 20;

    private final Path file;
    private final Arena arena;
    private final Map<String, TensorEntry> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, Arena arena, Map<String, TensorEntry> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps the file and parses its header; any problem is a {@link ModelFormatException} naming the file. */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapping;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                throw new ModelFormatException(file, "file not found");
            } catch (IOException e) {
                throw new ModelFormatException(file, "cannot read: " + e.getMessage());
            }
            return parse(file, arena, mapping);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, Arena arena, MemorySegment mapping) {
        long size = mapping.byteSize();
        if (size < 8) {
            throw new ModelFormatException(file, "truncated: " + size + " bytes, no safetensors header");
        }
        long headerLen = mapping.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 0 || headerLen > MAX_HEADER) {
            throw new ModelFormatException(file, "bad safetensors header length " + headerLen + " (not a safetensors file?)");
        }
        if (8 + headerLen > size) {
            throw new ModelFormatException(file, "truncated: header needs " + (8 + headerLen) + " bytes, file has " + size);
        }
        byte[] headerBytes = mapping.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = new ObjectMapper().readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ModelFormatException(file, "bad safetensors header: not valid JSON");
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException(file, "bad safetensors header: expected a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var field = it.next();
            String name = field.getKey();
            JsonNode info = field.getValue();
            if (name.equals("__metadata__")) {
                info.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(name, tensor(file, mapping, dataStart, dataSize, name, info));
        }
        return new SafetensorsFile(file, arena, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static TensorEntry tensor(Path file, MemorySegment mapping, long dataStart, long dataSize, String name, JsonNode info) {
        String dtype = info.path("dtype").asText("");
        TensorType type = switch (dtype) {
            case "F32" -> TensorType.F32;
            case "F16" -> TensorType.F16;
            case "BF16" -> TensorType.BF16;
            case "" -> throw new ModelFormatException(file, "tensor '" + name + "' has no dtype");
            default -> throw new ModelFormatException(file, "tensor '" + name + "' has dtype " + dtype + ", supported: F32, F16, BF16");
        };
        JsonNode shapeNode = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(file, "tensor '" + name + "' has a malformed shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0) {
                throw new ModelFormatException(file, "tensor '" + name + "' has a bad dimension " + d);
            }
            shape[i] = d.asLong();
            // no file holds 2^62 elements; the bound also keeps the byte size below from overflowing
            if (shape[i] != 0 && elements > (1L << 62) / shape[i]) {
                throw new ModelFormatException(file, "tensor '" + name + "' has an impossibly large shape " + shapeNode);
            }
            elements *= shape[i];
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin) {
            throw new ModelFormatException(file, "tensor '" + name + "' has bad data_offsets " + offsets);
        }
        long expected = type.byteSize(elements);
        if (end - begin != expected) {
            throw new ModelFormatException(file, "tensor '" + name + "' " + dtype + " " + java.util.Arrays.toString(shape)
                    + " needs " + expected + " bytes but data_offsets span " + (end - begin));
        }
        if (end > dataSize) {
            throw new ModelFormatException(file, "truncated: tensor '" + name + "' ends at byte " + (dataStart + end)
                    + " but the file has " + (dataStart + dataSize));
        }
        return new TensorEntry(name, type, shape, mapping.asSlice(dataStart + begin, end - begin), file);
    }

    public Path file() {
        return file;
    }

    /** All tensors in header order. */
    public List<TensorEntry> tensors() {
        return new ArrayList<>(tensors.values());
    }

    public Optional<TensorEntry> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The optional {@code __metadata__} string map. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file; tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
