package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A PyTorch weights file ({@code pytorch_model.bin} or one shard {@code pytorch_model-0000N-of-0000M.bin}) as
 * {@code torch.save} writes a state dict. The file is read without executing anything in it: its pickle is
 * interpreted by a restricted reader that only knows tensors, storages and plain containers. The file is mapped
 * once, and every tensor's {@link TensorEntry#data() data} is a read-only slice of that mapping, usable until
 * {@link #close()}.
 */
public final class TorchCheckpoint implements AutoCloseable {
    private final Path file;
    private final Arena arena;
    private final List<TensorEntry> tensors;
    private final Map<String, TensorEntry> byName;
    private boolean closed;

    private TorchCheckpoint(Path file, Arena arena, List<TensorEntry> tensors) {
        this.file = file;
        this.arena = arena;
        this.tensors = List.copyOf(tensors);
        var names = new LinkedHashMap<String, TensorEntry>();
        for (var tensor : tensors) {
            names.put(tensor.name(), tensor);
        }
        this.byName = names;
    }

    /**
     * Maps {@code file} and reads its tensor directory.
     *
     * @throws ModelFormatException if the file cannot be read, is not a zip-format {@code torch.save} state dict of
     *                              F16/BF16/F32 contiguous tensors, refers to anything but tensors, or is damaged
     */
    public static TorchCheckpoint open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, Files.exists(file) ? "not a regular file" : "no such file");
        }
        var arena = Arena.ofShared();
        try {
            MemorySegment mapping;
            try (var channel = FileChannel.open(file, StandardOpenOption.READ)) {
                mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            return new TorchCheckpoint(file, arena, StateDictReader.read(mapping, file));
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ModelFormatException(file, "no such file", e);
        } catch (AccessDeniedException e) {
            arena.close();
            throw new ModelFormatException(file, "permission denied", e);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(file, "cannot read the file: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The file this checkpoint was read from. */
    public Path file() {
        return file;
    }

    /** All tensors, in the order the state dict lists them. */
    public List<TensorEntry> tensors() {
        return tensors;
    }

    /** The tensor with this exact state-dict name, if present. */
    public Optional<TensorEntry> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Unmaps the file; the tensors' data must not be used afterwards (access then fails, it never crashes). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
