package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.SafeFiles;
import io.github.chatglm4j.tensor.TensorType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file of any size without holding the tensors in memory. All metadata and tensors are declared
 * up front; the writer lays out the header, then maps the data region read-write and hands out one writable segment
 * per tensor. The file is written through {@link SafeFiles} (an exclusively created temporary name, removed on
 * Ctrl-C or SIGTERM); {@link #finish()} flushes it and renames it onto its final name, so an interrupted run never
 * leaves a partial file under that name; {@link #close()} without {@code finish()} deletes it.
 * <pre>{@code
 * try (var w = GgufWriter.create(out, metadata, specs, false)) {
 *     for (var spec : specs) fill(w.tensor(spec.name()));
 *     w.finish();
 * }
 * }</pre>
 */
public final class GgufWriter implements AutoCloseable {
    public static final int ALIGNMENT = GgufParser.DEFAULT_ALIGNMENT;
    /** llama.cpp stores tensor names in 64-byte fields with a terminating zero. */
    public static final int MAX_NAME_BYTES = 63;

    /**
     * One tensor to write.
     *
     * @param ne ggml dimensions, row length first (a PyTorch {@code [out, in]} matrix is {@code ne = [in, out]})
     */
    public record TensorSpec(String name, TensorType type, long[] ne) {
        public TensorSpec {
            ne = ne.clone();
            byte[] utf8 = new GgufValue.Text(name).value().getBytes(StandardCharsets.UTF_8);
            if (utf8.length == 0 || utf8.length > MAX_NAME_BYTES) {
                throw new IllegalArgumentException("tensor name '" + name + "' must be 1 to " + MAX_NAME_BYTES + " UTF-8 bytes");
            }
            if (ne.length < 1 || ne.length > GgufParser.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '" + name + "' has " + ne.length + " dimensions, GGUF allows 1 to 4");
            }
            long n = 1;
            for (long d : ne) {
                if (d < 1) {
                    throw new IllegalArgumentException("tensor '" + name + "' has dimension " + d + " in " + Arrays.toString(ne));
                }
                if (d > Long.MAX_VALUE / 64 / n) {
                    throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(ne) + " is too large");
                }
                n *= d;
            }
            if (ne[0] % type.blockSize() != 0) {
                throw new IllegalArgumentException("tensor '" + name + "': row length " + ne[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }

        public long elementCount() {
            long n = 1;
            for (long d : ne) {
                n *= d;
            }
            return n;
        }

        public long byteSize() {
            return type.byteSize(elementCount());
        }
    }

    private final SafeFiles.Pending file;
    private final boolean overwrite;
    private final FileChannel channel;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, MemorySegment> slots;
    private final long dataBytes;
    private boolean finished;
    private boolean closed;

    private GgufWriter(SafeFiles.Pending file, boolean overwrite, Arena arena, MemorySegment data,
                       Map<String, MemorySegment> slots, long dataBytes) {
        this.file = file;
        this.overwrite = overwrite;
        this.channel = file.channel();
        this.arena = arena;
        this.data = data;
        this.slots = slots;
        this.dataBytes = dataBytes;
    }

    /**
     * Writes the header of {@code out} (under a temporary name) and maps room for every tensor.
     *
     * @param metadata  the key/value pairs in the order to write them; {@code general.alignment} (uint32, a power of
     *                  two) may set the alignment, 32 otherwise
     * @param overwrite replace {@code out} if it exists; otherwise an existing file is an error
     * @throws FileAlreadyExistsException if {@code out} exists and {@code overwrite} is false
     */
    public static GgufWriter create(Path out, Map<String, GgufValue> metadata, List<TensorSpec> tensors, boolean overwrite) throws IOException {
        if (!overwrite && Files.exists(out)) {
            throw new FileAlreadyExistsException(out.toString(), null, "refusing to overwrite an existing file");
        }
        long alignment = alignment(metadata.get(GgufParser.ALIGNMENT_KEY));
        var sink = new ByteSink(1 << 16);
        sink.u32(GgufParser.MAGIC);
        sink.u32(3);
        sink.u64(tensors.size());
        sink.u64(metadata.size());
        for (var e : metadata.entrySet()) {
            sink.string(new GgufValue.Text(e.getKey()).value());
            sink.u32(e.getValue().type().id());
            sink.value(e.getValue());
        }
        long[] offsets = new long[tensors.size()];
        long offset = 0;
        var names = new HashSet<String>();
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' is declared twice");
            }
            sink.string(t.name());
            sink.u32(t.ne.length);
            for (long d : t.ne) {
                sink.u64(d);
            }
            sink.u32(t.type().ggmlId());
            sink.u64(offset);
            offsets[i] = offset;
            offset = GgufParser.alignUp(offset + t.byteSize(), alignment);
        }
        sink.zeros((int) (GgufParser.alignUp(sink.size(), alignment) - sink.size()));
        long dataStart = sink.size();
        long dataBytes = offset;

        SafeFiles.Pending file = SafeFiles.create(out);
        FileChannel ch = file.channel();
        Arena arena = Arena.ofShared();
        try {
            ByteBuffer header = ByteBuffer.wrap(sink.toByteArray());
            while (header.hasRemaining()) {
                ch.write(header);
            }
            var slots = new LinkedHashMap<String, MemorySegment>();
            MemorySegment data = null;
            if (dataBytes > 0) {
                // Mapping past the end grows the file; the gaps between tensors read as zeros.
                data = ch.map(FileChannel.MapMode.READ_WRITE, dataStart, dataBytes, arena);
                for (int i = 0; i < tensors.size(); i++) {
                    TensorSpec t = tensors.get(i);
                    slots.put(t.name(), data.asSlice(offsets[i], t.byteSize()));
                }
            }
            return new GgufWriter(file, overwrite, arena, data, Collections.unmodifiableMap(slots), dataBytes);
        } catch (IOException | RuntimeException e) {
            arena.close();
            file.close();
            throw e;
        }
    }

    private static long alignment(GgufValue v) {
        if (v == null) {
            return ALIGNMENT;
        }
        if (v instanceof GgufValue.Int i && i.type() == GgufType.UINT32 && i.value() > 0 && (i.value() & (i.value() - 1)) == 0) {
            return i.value();
        }
        throw new IllegalArgumentException(GgufParser.ALIGNMENT_KEY + " must be a uint32 power of two, got " + v);
    }

    /** The writable bytes of a tensor (exactly its size), to be filled in its stored type, little-endian. */
    public MemorySegment tensor(String name) {
        checkOpen();
        MemorySegment s = slots.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' was declared");
        }
        return s;
    }

    /** Copies a tensor's bytes (exactly its size) into place. */
    public void write(String name, MemorySegment data) {
        MemorySegment dst = tensor(name);
        if (data.byteSize() != dst.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' takes " + dst.byteSize() + " bytes, got " + data.byteSize());
        }
        dst.copyFrom(data);
    }

    /** Bytes of the data section (all tensors with their padding). */
    public long dataBytes() {
        return dataBytes;
    }

    /** Flushes everything to disk and moves the file to its final name. */
    public void finish() throws IOException {
        checkOpen();
        if (data != null) {
            data.force();
        }
        arena.close();
        finished = true;
        closed = true;
        file.commit(overwrite);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(finished ? "the file is already finished" : "the writer is closed");
        }
    }

    /** Without a preceding {@link #finish()}: abandons the file and deletes its temporary name. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (arena.scope().isAlive()) {
            arena.close();
        }
        file.close();
    }
}
