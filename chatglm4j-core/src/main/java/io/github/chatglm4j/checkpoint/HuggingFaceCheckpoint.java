package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.format.safetensors.SafetensorsFile;
import io.github.chatglm4j.format.torch.TorchCheckpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory, in the order the hub's loaders prefer them: sharded safetensors
 * (with {@code model.safetensors.index.json}), a single {@code model.safetensors}, sharded PyTorch
 * {@code pytorch_model-*.bin} (with {@code pytorch_model.bin.index.json}) or a single {@code pytorch_model.bin}.
 * Every file stays memory-mapped; tensors are slices of the mappings.
 */
public final class HuggingFaceCheckpoint implements TensorSource {
    private final Path location;
    private final String description;
    private final Map<String, TensorEntry> tensors;
    private final List<AutoCloseable> files;

    private HuggingFaceCheckpoint(Path location, String description, Map<String, TensorEntry> tensors, List<AutoCloseable> files) {
        this.location = location;
        this.description = description;
        this.tensors = tensors;
        this.files = files;
    }

    /** Finds and maps the weight files of {@code dir}; reports each file as it is mapped. */
    public static HuggingFaceCheckpoint open(Path dir, LoadProgress progress) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, Files.exists(dir) ? "not a directory" : "no such directory");
        }
        Path stIndex = dir.resolve("model.safetensors.index.json");
        Path stSingle = dir.resolve("model.safetensors");
        Path binIndex = dir.resolve("pytorch_model.bin.index.json");
        Path binSingle = dir.resolve("pytorch_model.bin");
        if (Files.exists(stIndex)) {
            return openShards(stIndex, "safetensors", progress);
        } else if (Files.exists(stSingle)) {
            return openFiles(List.of(stSingle), Map.of(), "safetensors", progress);
        } else if (Files.exists(binIndex)) {
            return openShards(binIndex, "pytorch", progress);
        } else if (Files.exists(binSingle)) {
            return openFiles(List.of(binSingle), Map.of(), "pytorch", progress);
        }
        throw new ModelFormatException(dir, "no weights found (expected model.safetensors[.index.json] or pytorch_model.bin[.index.json])");
    }

    private static HuggingFaceCheckpoint openShards(Path index, String kind, LoadProgress progress) {
        JsonNode map;
        try {
            map = new ObjectMapper().readTree(Files.readString(index)).path("weight_map");
        } catch (IOException | RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            throw new ModelFormatException(index, "cannot read the shard index: " + (m.contains("\n") ? m.substring(0, m.indexOf('\n')) : m));
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new ModelFormatException(index, "has no weight_map");
        }
        Set<Path> shards = new LinkedHashSet<>();
        Map<String, Path> expected = new LinkedHashMap<>();
        map.properties().forEach(e -> {
            Path shard = shardPath(index, e.getKey(), e.getValue());
            shards.add(shard);
            expected.put(e.getKey(), shard);
        });
        for (Path shard : shards) {
            if (!Files.exists(shard)) {
                throw new ModelFormatException(shard, "missing shard listed in " + index.getFileName());
            }
        }
        return openFiles(new ArrayList<>(shards), expected, kind, progress);
    }

    /**
     * The file an index entry names, which must be inside the model directory: an index is data, and a name such as
     * {@code ../../etc/passwd} or an absolute path must not make the loader open files elsewhere. Only the name is
     * checked, not where a symbolic link in the directory points (the Hugging Face cache links shards to its blobs).
     */
    static Path shardPath(Path index, String tensor, JsonNode name) {
        if (!name.isTextual() || name.textValue().isEmpty()) {
            throw new ModelFormatException(index, "the shard of tensor '" + tensor + "' is not a file name: " + name);
        }
        String text = name.textValue();
        Path dir = index.toAbsolutePath().normalize().getParent();
        Path relative;
        try {
            relative = Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            relative = null;
        }
        Path inside = relative == null || relative.isAbsolute() ? null : dir.resolve(relative).normalize();
        if (inside == null || !inside.startsWith(dir) || inside.equals(dir)) {
            throw new ModelFormatException(index, "the shard '" + printable(text) + "' of tensor '" + tensor
                    + "' is outside the model directory; refusing to open it");
        }
        return index.resolveSibling(relative);
    }

    private static String printable(String s) {
        var out = new StringBuilder();
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            out.append(c >= 0x20 && c != 0x7f ? c : '?');
        }
        return out.toString();
    }

    private static HuggingFaceCheckpoint openFiles(List<Path> paths, Map<String, Path> expected, String kind, LoadProgress progress) {
        long total = 0;
        for (Path p : paths) {
            total += sizeOf(p);
        }
        List<AutoCloseable> opened = new ArrayList<>();
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        long done = 0;
        try {
            progress.update("mapping", 0, total);
            for (Path p : paths) {
                List<TensorEntry> entries;
                if (kind.equals("safetensors")) {
                    SafetensorsFile f = SafetensorsFile.open(p);
                    opened.add(f);
                    entries = f.tensors();
                } else {
                    TorchCheckpoint f = TorchCheckpoint.open(p);
                    opened.add(f);
                    entries = f.tensors();
                }
                for (TensorEntry t : entries) {
                    Path want = expected.get(t.name());
                    if (want == null || want.equals(p)) {
                        tensors.putIfAbsent(t.name(), t);
                    }
                }
                done += sizeOf(p);
                progress.update("mapping", done, total);
            }
            for (var e : expected.entrySet()) {
                if (!tensors.containsKey(e.getKey())) {
                    throw new ModelFormatException(e.getValue(), "tensor '" + e.getKey() + "' listed in the index is not in this shard");
                }
            }
        } catch (RuntimeException e) {
            closeAll(opened);
            throw e;
        }
        String desc = paths.size() == 1 ? paths.getFirst().toString()
                : paths.size() + " " + kind + " shards in " + paths.getFirst().getParent();
        return new HuggingFaceCheckpoint(paths.size() == 1 ? paths.getFirst() : paths.getFirst().getParent(), desc, Collections.unmodifiableMap(tensors), opened);
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new ModelFormatException(p, "cannot read: " + e.getMessage());
        }
    }

    private static void closeAll(List<AutoCloseable> files) {
        for (AutoCloseable f : files) {
            try {
                f.close();
            } catch (Exception ignored) {
                // closing a read-only mapping cannot lose data
            }
        }
    }

    @Override
    public Optional<TensorEntry> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public List<TensorEntry> tensors() {
        return new ArrayList<>(tensors.values());
    }

    @Override
    public Path location() {
        return location;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        closeAll(files);
    }
}
