package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.ModelFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A GGUF file (version 2 or 3, little-endian), mapped read-only once: its metadata and its tensors, whose data are
 * slices of the mapping in their stored type. Every problem with the file, including a hostile one, is reported as a
 * {@link ModelFormatException} naming the file. Closing unmaps the data; the metadata stays usable.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final GgufParser.Parsed parsed;
    private final Map<String, GgufTensor> byName;

    private GgufFile(Path path, Arena arena, GgufParser.Parsed parsed) {
        this.path = path;
        this.arena = arena;
        this.parsed = parsed;
        var m = new LinkedHashMap<String, GgufTensor>();
        parsed.tensors().forEach(t -> m.put(t.name(), t));
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Maps and parses the file. */
    public static GgufFile open(Path file) {
        if (Files.isDirectory(file)) {
            throw new ModelFormatException(file, "is a directory, expected a .gguf file");
        }
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
            return new GgufFile(file, arena, GgufParser.parse(file, mapping));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Whether {@code file} is a regular file that starts with the GGUF magic. */
    public static boolean isGguf(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return parsed.version();
    }

    /** The alignment of tensor data ({@code general.alignment}, default 32). */
    public long alignment() {
        return parsed.alignment();
    }

    /** The file offset where the data section (and the first tensor) begins. */
    public long dataOffset() {
        return parsed.dataOffset();
    }

    /** All metadata in file order. */
    public Map<String, GgufValue> metadata() {
        return parsed.metadata();
    }

    public Optional<GgufValue> value(String key) {
        return Optional.ofNullable(parsed.metadata().get(key));
    }

    /** All tensors in file order. */
    public List<GgufTensor> tensors() {
        return parsed.tensors();
    }

    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** {@code general.architecture}, which every GGUF model file must have. */
    public String architecture() {
        return string("general.architecture").orElseThrow(() -> fail("has no general.architecture"));
    }

    /** An integer that must not be negative (any integer type holding a value in [0, 2^63)). */
    public Optional<Long> uint(String key) {
        return integer(key).map(v -> {
            if (v < 0) {
                throw fail("metadata " + Quote.of(key) + " is " + v + ", expected a value that is not negative");
            }
            return v;
        });
    }

    /** An integer of any integer type; a uint64 above 2^63 - 1 is refused. */
    public Optional<Long> integer(String key) {
        return typed(key, "an integer", v -> {
            if (!(v instanceof GgufValue.Int i)) {
                return null;
            }
            if (i.type() == GgufType.UINT64 && i.value() < 0) {
                throw fail("metadata " + Quote.of(key) + " is " + Long.toUnsignedString(i.value()) + ", too large");
            }
            return i.value();
        });
    }

    /** A float32 or float64. */
    public Optional<Double> real(String key) {
        return typed(key, "a float", v -> v instanceof GgufValue.Real r ? r.value() : null);
    }

    public Optional<String> string(String key) {
        return typed(key, "a string", v -> v instanceof GgufValue.Text t ? t.value() : null);
    }

    public Optional<Boolean> bool(String key) {
        return typed(key, "a bool", v -> v instanceof GgufValue.Bool b ? b.value() : null);
    }

    public Optional<GgufArray> array(String key) {
        return typed(key, "an array", v -> v instanceof GgufArray a ? a : null);
    }

    /** An array of strings. */
    public Optional<List<String>> strings(String key) {
        return elements(key, GgufArray::strings);
    }

    /** An array of float32. */
    public Optional<float[]> floats(String key) {
        return elements(key, GgufArray::floats);
    }

    /** An array of integers whose values all fit in an int. */
    public Optional<int[]> ints(String key) {
        return elements(key, GgufArray::ints);
    }

    private <T> Optional<T> elements(String key, Function<GgufArray, T> view) {
        return array(key).map(a -> {
            try {
                return view.apply(a);
            } catch (IllegalStateException e) {
                throw fail("metadata " + Quote.of(key) + ": " + e.getMessage());
            }
        });
    }

    private <T> Optional<T> typed(String key, String wanted, Function<GgufValue, T> extract) {
        GgufValue v = parsed.metadata().get(key);
        if (v == null) {
            return Optional.empty();
        }
        T out = extract.apply(v);
        if (out == null) {
            throw fail("metadata " + Quote.of(key) + " is " + describe(v) + ", expected " + wanted);
        }
        return Optional.of(out);
    }

    private static String describe(GgufValue v) {
        return v instanceof GgufArray a ? "an array of " + a.elementType().label() : "a " + v.type().label();
    }

    private ModelFormatException fail(String problem) {
        return new ModelFormatException(path, Quote.oneLine(problem));
    }

    /** Unmaps the file; tensor data must not be used afterwards. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
