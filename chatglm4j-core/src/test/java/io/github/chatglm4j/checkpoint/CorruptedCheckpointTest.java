package io.github.chatglm4j.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A corpus of damaged and hostile Hugging Face checkpoints (issue 10, items 8 and 9): config.json, tokenizer.model,
 * safetensors shards, their index, PyTorch .bin and its index, each corrupted many ways. Loading and converting each
 * must end in a one-line {@link ModelFormatException} naming a file (or load fine), never another exception, an
 * out-of-memory error or a big allocation: a config claiming a billion layers, or a shard index naming
 * {@code ../../etc/passwd}, is refused before anything is allocated or opened. (GGUF has its own sweep in
 * {@link GgufCorruptionTest}.)
 */
class CorruptedCheckpointTest {
    /** Far more than loading the tiny model needs, far less than what the hostile sizes would allocate. */
    static final long ALLOCATION_LIMIT = 256L << 20;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path root;
    static Path tiny;
    static int cases;

    @BeforeAll
    static void fixtures() {
        tiny = Fixtures.tinyModel();
    }

    /** A copy of the tiny model's files (safetensors shards with index, or the .bin), damaged by {@code damage}. */
    static Path variant(String name, boolean torch, Consumer<Path> damage) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name.replaceAll("[^A-Za-z0-9]+", "_") + "_" + cases++));
        List<String> files = new ArrayList<>(List.of("config.json", "tokenizer.model", "tokenizer_config.json"));
        files.addAll(torch ? List.of("pytorch_model.bin")
                : List.of("model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"));
        for (String f : files) {
            Files.copy(tiny.resolve(f), dir.resolve(f));
        }
        damage.accept(dir);
        return dir;
    }

    static void expectCleanOutcome(String what, Path dir) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        try (ChatGLM glm = ChatGLM.load(dir, LoadOptions.defaults().withThreads(1).withContextSize(16).withPreload(false).withParallel(1))) {
            assertThat(glm.config().numLayers()).isPositive();
        } catch (ModelFormatException e) {
            if (e.getMessage().contains("\n") || !e.getMessage().startsWith("/")) {
                fail(what + ": not one line naming a file: " + e.getMessage());
            }
        } catch (Throwable t) {
            throw new AssertionError(what + ": unexpected " + t, t);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("%s: bytes allocated before the outcome", what).isLessThan(ALLOCATION_LIMIT);
        Path out = dir.resolve("out.gguf");
        try {
            GgufModelWriter.convert(dir, out, io.github.chatglm4j.tensor.TensorType.F16, io.github.chatglm4j.format.gguf.RowEncoder.floats(),
                    io.github.chatglm4j.format.LoadProgress.NONE, true);
        } catch (ModelFormatException e) {
            assertThat(e.getMessage()).as(what).doesNotContain("\n");
        } catch (Throwable t) {
            throw new AssertionError(what + " (convert): unexpected " + t, t);
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("%s: no temporary file left by convert", what)
                    .noneMatch(n -> n.endsWith(".tmp"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static void editConfig(Path dir, Consumer<ObjectNode> edit) {
        try {
            ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            edit.accept(config);
            Files.writeString(dir.resolve("config.json"), config.toString());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static void truncate(Path file, long length) {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(length);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static void patch(Path file, long at, byte[] bytes) {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void configsThatLieAboutSizesFailBeforeAllocating() throws IOException {
        String[][] edits = {
                {"num_layers", "1000000000"}, {"num_layers", "2147483647"}, {"num_layers", "3"}, {"num_layers", "0"}, {"num_layers", "-1"},
                {"num_layers", "\"two\""}, {"num_layers", "1e9"}, {"hidden_size", "2147483647"}, {"hidden_size", "1"},
                {"ffn_hidden_size", "2147483647"}, {"num_attention_heads", "1073741824"}, {"kv_channels", "1073741824"},
                {"multi_query_group_num", "1000000"}, {"padded_vocab_size", "2147483647"}, {"padded_vocab_size", "1"},
                {"seq_length", "2147483647"}, {"seq_length", "1"}, {"layernorm_epsilon", "-1"}, {"rope_ratio", "0"},
                {"rmsnorm", "false"}, {"model_type", "\"llama\""},
        };
        for (String[] e : edits) {
            Path dir = variant("config " + e[0], false, d -> editConfig(d, c -> c.set(e[0], parse(e[1]))));
            expectCleanOutcome("config " + e[0] + " = " + e[1], dir);
        }
        for (String text : new String[]{"", "{", "[]", "null", "{\"num_layers\": " + "[".repeat(5000) + "]".repeat(5000) + "}", "\u0000\u0001"}) {
            expectCleanOutcome("config.json '" + text.substring(0, Math.min(20, text.length())) + "'",
                    variant("config text", false, d -> write(d.resolve("config.json"), text)));
        }
    }

    @Test
    void shardIndexesCannotNameFilesOutsideTheModelDirectory() throws IOException {
        Path outside = Files.writeString(root.resolve("secret.txt"), "not a shard");
        String[] names = {"../../etc/passwd", "/etc/passwd", "../secret.txt", outside.toString(), "sub/../../secret.txt", "..", "."};
        for (boolean torch : new boolean[]{false, true}) {
            for (String name : names) {
                Path dir = variant("index " + name, torch, d -> {
                    String index = torch ? "pytorch_model.bin.index.json" : "model.safetensors.index.json";
                    ObjectNode map = JSON.createObjectNode();
                    map.putObject("weight_map").put("transformer.embedding.word_embeddings.weight", name)
                            .put("transformer.output_layer.weight", torch ? "pytorch_model.bin" : "model-00001-of-00002.safetensors");
                    write(d.resolve(index), map.toString());
                });
                try {
                    ChatGLM.load(dir, LoadOptions.defaults().withThreads(1).withContextSize(16).withPreload(false)).close();
                    fail("an index naming '" + name + "' loaded");
                } catch (ModelFormatException e) {
                    assertThat(e.getMessage()).as("index naming '%s'", name).contains("outside the model directory").doesNotContain("\n");
                }
            }
        }
        assertThat(Files.readString(outside)).isEqualTo("not a shard");
    }

    @Test
    void damagedShardsIndexesAndTokenizersGiveOneLineErrors() throws IOException {
        var random = new SplittableRandom(0xC0FFEE);
        String shard = "model-00001-of-00002.safetensors";
        long shardSize = Files.size(tiny.resolve(shard));
        long[] cuts = {0, 1, 7, 8, 9, 100, 1000, shardSize / 2, shardSize - 1};
        for (long cut : cuts) {
            expectCleanOutcome("shard truncated to " + cut, variant("shard cut", false, d -> truncate(d.resolve(shard), cut)));
        }
        long[] headerLengths = {0, 1, 7, -1, Long.MAX_VALUE, 1L << 40, shardSize, shardSize - 8};
        for (long n : headerLengths) {
            byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n).array();
            expectCleanOutcome("header length " + n, variant("shard header", false, d -> patch(d.resolve(shard), 0, b)));
        }
        String[] headers = {
                "{\"transformer.embedding.word_embeddings.weight\": {\"dtype\": \"F16\", \"shape\": [1, 1], \"data_offsets\": [0, 99999999999]}}",
                "{\"transformer.embedding.word_embeddings.weight\": {\"dtype\": \"F16\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 2]}}",
                "{\"transformer.embedding.word_embeddings.weight\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [2, 0]}}",
                "{\"transformer.embedding.word_embeddings.weight\": {\"dtype\": \"Q9\", \"shape\": [1], \"data_offsets\": [0, 2]}}",
                "{\"transformer.embedding.word_embeddings.weight\": {\"dtype\": \"F16\", \"shape\": [-1], \"data_offsets\": [0, 2]}}",
                "{\"transformer.embedding.word_embeddings.weight\": 5}", "[]", "not json at all",
        };
        for (String header : headers) {
            expectCleanOutcome("shard header " + header, variant("shard json", false, d -> {
                byte[] json = header.getBytes(StandardCharsets.UTF_8);
                ByteBuffer b = ByteBuffer.allocate(8 + json.length + 16).order(ByteOrder.LITTLE_ENDIAN);
                b.putLong(json.length).put(json);
                try {
                    Files.write(d.resolve(shard), b.array());
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }));
        }
        for (int i = 0; i < 12; i++) {
            int flips = 1 + random.nextInt(8);
            long[] at = new long[flips];
            for (int f = 0; f < flips; f++) {
                at[f] = random.nextLong(Math.min(shardSize, 4096));
            }
            byte value = (byte) random.nextInt(256);
            expectCleanOutcome("shard header bytes flipped at " + java.util.Arrays.toString(at), variant("shard flip", false, d -> {
                for (long a : at) {
                    patch(d.resolve(shard), a, new byte[]{value});
                }
            }));
        }
        for (String index : new String[]{"{}", "{\"weight_map\": []}", "{\"weight_map\": {\"x\": 5}}", "{\"weight_map\": {\"x\": \"missing.safetensors\"}}", "nope"}) {
            expectCleanOutcome("index " + index, variant("index", false, d -> write(d.resolve("model.safetensors.index.json"), index)));
        }
        long binSize = Files.size(tiny.resolve("pytorch_model.bin"));
        for (long cut : new long[]{0, 4, 30, 1000, binSize / 2, binSize - 22, binSize - 1}) {
            expectCleanOutcome("pytorch_model.bin truncated to " + cut, variant("bin cut", true, d -> truncate(d.resolve("pytorch_model.bin"), cut)));
        }
        for (int i = 0; i < 10; i++) {
            long at = binSize - 1 - random.nextLong(Math.min(binSize, 3000)); // the zip's central directory and the pickle
            byte value = (byte) random.nextInt(256);
            expectCleanOutcome("pytorch_model.bin byte " + at + " = " + value, variant("bin flip", true, d -> patch(d.resolve("pytorch_model.bin"), at, new byte[]{value})));
        }
        long tokSize = Files.size(tiny.resolve("tokenizer.model"));
        for (long cut : new long[]{0, 1, 2, 100, tokSize / 2, tokSize - 1}) {
            expectCleanOutcome("tokenizer.model truncated to " + cut, variant("tok cut", false, d -> truncate(d.resolve("tokenizer.model"), cut)));
        }
        for (int i = 0; i < 6; i++) {
            long at = random.nextLong(64);
            byte value = (byte) random.nextInt(256);
            expectCleanOutcome("tokenizer.model byte " + at + " = " + value, variant("tok flip", false, d -> patch(d.resolve("tokenizer.model"), at, new byte[]{value})));
        }
        assertThat(cases).as("the size of the corpus so far").isGreaterThan(60);
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(String v) {
        try {
            return JSON.readTree(v);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
