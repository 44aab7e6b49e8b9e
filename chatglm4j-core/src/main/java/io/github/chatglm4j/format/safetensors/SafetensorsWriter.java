package io.github.chatglm4j.format.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.format.SafeFiles;
import io.github.chatglm4j.tensor.TensorType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file tensor by tensor, streaming the data so that multi-gigabyte checkpoints never
 * sit in memory. The file is written through {@link SafeFiles} (exclusively created temporary name, atomic rename,
 * removed on interrupt), so an interrupted write never leaves a truncated file behind under the final name.
 */
public final class SafetensorsWriter {

    /** One tensor to write. */
    public record TensorSpec(String name, TensorType type, long[] shape) {
        public TensorSpec {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public long byteSize() {
            return type.byteSize(elementCount());
        }
    }

    /** Produces the bytes of one tensor (little-endian, row-major, exactly {@code spec.byteSize()} bytes). */
    @FunctionalInterface
    public interface TensorData {
        void write(TensorSpec spec, WritableByteChannel out) throws IOException;
    }

    private SafetensorsWriter() {
    }

    public static void write(Path file, List<TensorSpec> tensors, Map<String, String> metadata, TensorData data) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (TensorSpec t : tensors) {
            ObjectNode info = header.putObject(t.name());
            info.put("dtype", t.type().name());
            var shape = info.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            info.putArray("data_offsets").add(offset).add(offset + t.byteSize());
            offset += t.byteSize();
        }
        byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // keep the data 8-byte aligned, padding with spaces
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(headerBytes);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();

        try (SafeFiles.Pending pending = SafeFiles.create(file)) {
            FileChannel ch = pending.channel();
            while (prefix.hasRemaining()) {
                ch.write(prefix);
            }
            long expected = 8 + padded;
            for (TensorSpec t : tensors) {
                data.write(t, ch);
                expected += t.byteSize();
                if (ch.position() != expected) {
                    throw new IOException("tensor " + t.name() + " wrote " + (ch.position() - expected + t.byteSize())
                            + " bytes, expected " + t.byteSize());
                }
            }
            pending.commit(true);
        }
    }
}
