package io.github.chatglm4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which files of a repository the engine needs: {@code config.json}, {@code tokenizer.model} and one weight
 * format, in the order the loader prefers (sharded safetensors, {@code model.safetensors}, sharded
 * {@code pytorch_model-*.bin}, {@code pytorch_model.bin}) and never two; no Python code, no README. A repository
 * without {@code config.json} is taken as a GGUF repository: its one {@code .gguf} file, or the one named.
 */
final class CheckpointFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ST_SHARD = Pattern.compile("model-\\d+-of-\\d+\\.safetensors");
    private static final Pattern BIN_SHARD = Pattern.compile("pytorch_model-\\d+-of-\\d+\\.bin");

    private CheckpointFiles() {
    }

    /** The files to fetch from a listing (for {@code ref.file()}: that file alone). */
    static List<RemoteFile> select(ModelRef ref, List<RemoteFile> listing) {
        Map<String, RemoteFile> byPath = listing.stream().collect(Collectors.toMap(RemoteFile::path, f -> f, (a, b) -> a));
        if (ref.file() != null) {
            RemoteFile f = byPath.get(ref.file());
            if (f == null) {
                throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref.repo() + "@" + ref.revision() + " has no file '"
                        + ref.file() + "'" + ggufHint(listing));
            }
            return List.of(f);
        }
        if (!byPath.containsKey("config.json")) {
            List<RemoteFile> ggufs = listing.stream().filter(f -> f.path().endsWith(".gguf")).toList();
            if (ggufs.size() == 1) {
                return ggufs;
            }
            if (ggufs.isEmpty()) {
                throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref + " has neither config.json nor a .gguf file: "
                        + "not a model this engine loads");
            }
            throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref + " holds several GGUF files; pick one with --file NAME "
                    + "(or " + ref.repo() + "/NAME): " + ggufs.stream().map(RemoteFile::path).collect(Collectors.joining(", ")));
        }
        if (!byPath.containsKey("tokenizer.model")) {
            throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref + " has no tokenizer.model: not a ChatGLM3 checkpoint");
        }
        List<RemoteFile> weights = weights(byPath, "model.safetensors", ST_SHARD);
        if (weights.isEmpty()) {
            weights = weights(byPath, "pytorch_model.bin", BIN_SHARD);
        }
        if (weights.isEmpty()) {
            throw new HubException(HubException.Kind.FILE_NOT_FOUND, ref + " has no weights the engine reads "
                    + "(model*.safetensors or pytorch_model*.bin)" + ggufHint(listing));
        }
        List<RemoteFile> chosen = new ArrayList<>();
        chosen.add(byPath.get("config.json"));
        chosen.add(byPath.get("tokenizer.model"));
        chosen.addAll(weights);
        return chosen;
    }

    /** The index and its shards, or the single file, or nothing. */
    private static List<RemoteFile> weights(Map<String, RemoteFile> byPath, String single, Pattern shard) {
        RemoteFile index = byPath.get(single + ".index.json");
        List<RemoteFile> shards = byPath.values().stream().filter(f -> shard.matcher(f.path()).matches())
                .sorted((a, b) -> a.path().compareTo(b.path())).toList();
        if (index != null && !shards.isEmpty()) {
            List<RemoteFile> all = new ArrayList<>();
            all.add(index);
            all.addAll(shards);
            return all;
        }
        return byPath.containsKey(single) ? List.of(byPath.get(single)) : List.of();
    }

    private static String ggufHint(List<RemoteFile> listing) {
        Set<String> ggufs = listing.stream().map(RemoteFile::path).filter(p -> p.endsWith(".gguf")).collect(Collectors.toCollection(TreeSet::new));
        return ggufs.isEmpty() ? "" : " (GGUF files here: " + String.join(", ", ggufs) + ")";
    }

    /**
     * What the loader would read in a local snapshot, if it is all there: the directory (or, for a file reference
     * or a GGUF-only snapshot, the .gguf file). Nothing if a needed file is missing.
     */
    static Optional<Path> complete(Path snapshot, String file) {
        if (!Files.isDirectory(snapshot)) {
            return Optional.empty();
        }
        if (file != null) {
            Path p = snapshot.resolve(file);
            return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
        }
        if (!Files.isRegularFile(snapshot.resolve("config.json"))) {
            return onlyGguf(snapshot);
        }
        if (!Files.isRegularFile(snapshot.resolve("tokenizer.model"))) {
            return Optional.empty();
        }
        // the loader's order: the first weight set present is the one it reads, so that one must be whole
        for (String single : new String[]{"model.safetensors", "pytorch_model.bin"}) {
            Path index = snapshot.resolve(single + ".index.json");
            if (Files.isRegularFile(index)) {
                return shardsPresent(snapshot, index) ? Optional.of(snapshot) : Optional.empty();
            }
            if (Files.isRegularFile(snapshot.resolve(single))) {
                return Optional.of(snapshot);
            }
        }
        return Optional.empty();
    }

    private static boolean shardsPresent(Path snapshot, Path index) {
        try {
            JsonNode map = JSON.readTree(Files.readString(index)).path("weight_map");
            Set<String> shards = new LinkedHashSet<>();
            for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
                shards.add(it.next().asText());
            }
            return !shards.isEmpty() && shards.stream().map(snapshot::resolve).allMatch(Files::isRegularFile);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static Optional<Path> onlyGguf(Path snapshot) {
        try (var files = Files.list(snapshot)) {
            List<Path> ggufs = files.filter(((Predicate<Path>) Files::isRegularFile).and(p -> p.toString().endsWith(".gguf"))).toList();
            return ggufs.size() == 1 ? Optional.of(ggufs.getFirst()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
