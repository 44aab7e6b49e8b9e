package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.gguf.GgufReaderTest;
import io.github.chatglm4j.format.gguf.GgufBytes;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.gguf.GgufArray;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.format.gguf.GgufValue;
import io.github.chatglm4j.format.gguf.GgufWriter;
import io.github.chatglm4j.tensor.TensorType;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile and damaged files: truncations, random byte flips and extreme values in every count, length, dimension,
 * type and offset field. The only acceptable outcomes are a successful open/load or a {@link ModelFormatException}
 * naming the file; anything else (index errors, buffer underflows, out-of-memory, hangs) fails the test.
 * Seeds are fixed; set {@code -Dchatglm.test.seed} to explore others.
 */
class GgufCorruptionTest {
    private static final long SEED = Long.getLong("chatglm.test.seed", 0x6607_F11EL);
    private static final long[] EXTREMES = {0, 1, 2, 3, 31, 33, 0x7FFF_FFFFL, 0xFFFF_FFFFL, 1L << 32, 1L << 60, Long.MAX_VALUE, -1L, -8L};

    @TempDir
    static Path dir;

    private static GgufBytes small;
    private static GgufBytes model;
    private static Path modelFile;

    @BeforeAll
    static void build() throws IOException {
        small = GgufReaderTest.everyType(3, null);
        // the array counts of the small file, for the extreme-value sweep
        for (String key : List.of("a.strings", "a.f32", "a.i32", "a.u8", "a.u64.empty", "a.nested", "a.deep")) {
            int type = small.fields.get("type:" + key);
            small.fields.put("elemtype:" + key, type + 4);
            small.fields.put("count:" + key, type + 8);
        }
        model = microModelBytes();
        modelFile = model.writeTo(dir.resolve("micro.gguf"));
    }

    /** The micro model encoded by the test's own byte writer, so that every field's offset is known. */
    private static GgufBytes microModelBytes() {
        Map<String, GgufValue> metadata = MicroModel.metadata();
        List<GgufWriter.TensorSpec> tensors = MicroModel.tensors();
        var b = new GgufBytes().header(3, tensors.size(), metadata.size());
        metadata.forEach((k, v) -> {
            b.key(k, v.type().id());
            if (v instanceof GgufArray a) {
                b.mark("elemtype:" + k).u32(a.elementType().id()).mark("count:" + k).u64(a.size());
                for (GgufValue e : a.values()) {
                    b.value(e);
                }
            } else {
                b.mark("value:" + k).value(v);
            }
        });
        long offset = 0;
        for (var t : tensors) {
            b.tensorInfo(t.name(), t.type().ggmlId(), offset, t.ne());
            offset = (offset + t.byteSize() + 31) / 32 * 32;
        }
        b.padTo(32).mark("data");
        var random = new SplittableRandom(5);
        for (var t : tensors) {
            for (long i = 0; i < t.elementCount(); i++) {
                if (t.type() == TensorType.F32) {
                    b.f32(1f + (float) random.nextGaussian() * 0.1f);
                } else {
                    b.u16(Float.floatToFloat16((float) random.nextGaussian() * 0.5f));
                }
            }
            b.padTo(32);
        }
        return b;
    }

    // ---- outcomes ----

    /** Opens the file and, if that works, reads every value and every tensor byte. */
    private static void openAndTouch(Path file) {
        try (GgufFile f = GgufFile.open(file)) {
            for (GgufValue v : f.metadata().values()) {
                if (v instanceof GgufArray a) {
                    a.values();
                }
            }
            for (GgufTensor t : f.tensors()) {
                if (t.data().byteSize() > 0) {
                    t.data().get(ValueLayout.JAVA_BYTE, t.data().byteSize() - 1);
                }
            }
        }
    }

    private static void loadModel(Path file) {
        try (ChatGLM glm = ChatGLM.load(file, LoadOptions.defaults().withThreads(1).withContextSize(16).withPreload(false))) {
            assertThat(glm.config().vocabSize()).isPositive();
        }
    }

    /** Fails unless {@code action} succeeds or throws a ModelFormatException that names {@code file}. */
    private static void expectCleanOutcome(Path file, String what, Runnable action, int[] outcomes) {
        try {
            action.run();
            outcomes[0]++;
        } catch (ModelFormatException e) {
            if (!e.getMessage().startsWith(file + ": ") || e.getMessage().contains("\n")) {
                fail(what + ": message does not name the file on one line: " + e.getMessage());
            }
            outcomes[1]++;
        } catch (Throwable t) {
            throw new AssertionError(what + ": unexpected " + t, t);
        }
    }

    // ---- the small all-types file ----

    @Test
    void everyTruncationIsReported() throws IOException {
        byte[] full = small.toBytes();
        Path file = dir.resolve("truncated.gguf");
        int[] outcomes = new int[2];
        for (int length = 0; length < full.length; length++) {
            Files.write(file, java.util.Arrays.copyOf(full, length));
            expectCleanOutcome(file, "truncated to " + length + " bytes", () -> openAndTouch(file), outcomes);
        }
        assertThat(outcomes[0]).as("no truncation of a file whose last tensor ends at the end opens").isZero();
        assertThat(outcomes[1]).isEqualTo(full.length);
    }

    @Test
    void randomByteFlipsOnlyEverGiveModelFormatExceptions() throws IOException {
        byte[] full = small.toBytes();
        Path file = dir.resolve("flipped.gguf");
        var random = new Random(SEED);
        int[] outcomes = new int[2];
        for (int c = 0; c < 3000; c++) {
            byte[] bytes = full.clone();
            int flips = 1 + random.nextInt(4);
            var where = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                int pos = random.nextInt(small.fields.get("data")); // the header
                bytes[pos] = (byte) (random.nextBoolean() ? random.nextInt(256) : bytes[pos] ^ (1 << random.nextInt(8)));
                where.append(pos).append('=').append(HexFormat.of().toHexDigits(bytes[pos])).append(' ');
            }
            Files.write(file, bytes);
            expectCleanOutcome(file, "case " + c + " (seed " + SEED + "), bytes " + where, () -> openAndTouch(file), outcomes);
        }
        assertThat(outcomes[0]).as("some flips are harmless").isPositive();
        assertThat(outcomes[1]).as("most flips are caught").isPositive();
    }

    @Test
    void extremeValuesInEveryFieldOnlyEverGiveModelFormatExceptions() throws IOException {
        byte[] full = small.toBytes();
        Path file = dir.resolve("extreme.gguf");
        int[] outcomes = new int[2];
        for (var field : small.fields.entrySet()) {
            if (field.getKey().equals("data")) {
                continue;
            }
            for (long v : EXTREMES) {
                byte[] bytes = full.clone();
                put(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), field.getKey(), field.getValue(), v);
                Files.write(file, bytes);
                expectCleanOutcome(file, field.getKey() + " = " + v, () -> openAndTouch(file), outcomes);
            }
        }
        assertThat(outcomes[1]).isGreaterThan(100);
    }

    /** u32 fields (version, value and element types, dimension counts, tensor types) get the low 32 bits. */
    private static void put(ByteBuffer buf, String field, int pos, long v) {
        boolean u32 = field.equals("version") || field.startsWith("type:") || field.startsWith("elemtype:")
                || field.endsWith(".ndims") || field.endsWith(".type");
        if (u32) {
            buf.putInt(pos, (int) v);
        } else {
            buf.putLong(pos, v);
        }
    }

    // ---- a complete model through ChatGLM.load ----

    private static void patchAndLoad(List<int[]> edits, String what, int[] outcomes) throws IOException {
        // edits: {position, new byte}; the file is restored afterwards
        byte[] original = new byte[edits.size()];
        try (FileChannel ch = FileChannel.open(modelFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int i = 0; i < edits.size(); i++) {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, edits.get(i)[0]);
                original[i] = one.get(0);
                ch.write(ByteBuffer.wrap(new byte[]{(byte) edits.get(i)[1]}), edits.get(i)[0]);
            }
        }
        try {
            expectCleanOutcome(modelFile, what, () -> loadModel(modelFile), outcomes);
        } finally {
            try (FileChannel ch = FileChannel.open(modelFile, StandardOpenOption.WRITE)) {
                for (int i = edits.size() - 1; i >= 0; i--) {
                    ch.write(ByteBuffer.wrap(new byte[]{original[i]}), edits.get(i)[0]);
                }
            }
        }
    }

    private static List<int[]> fieldEdit(String field, int pos, long v) {
        byte[] bytes = new byte[8];
        put(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), field, 0, v);
        int width = field.equals("version") || field.startsWith("type:") || field.startsWith("elemtype:")
                || field.endsWith(".ndims") || field.endsWith(".type") ? 4 : 8;
        var edits = new ArrayList<int[]>();
        for (int i = 0; i < width; i++) {
            edits.add(new int[]{pos + i, bytes[i]});
        }
        return edits;
    }

    @Test
    void theUntouchedModelLoads() {
        loadModel(modelFile);
    }

    @Test
    void modelFieldsSetToExtremeValuesGiveModelFormatExceptionsOrALoad() throws IOException {
        int[] outcomes = new int[2];
        for (var field : model.fields.entrySet()) {
            String name = field.getKey();
            if (name.equals("data") || name.startsWith("value:") && !name.startsWith("value:chatglm.")) {
                continue;
            }
            for (long v : EXTREMES) {
                patchAndLoad(fieldEdit(name, field.getValue(), v), name + " = " + v, outcomes);
            }
        }
        assertThat(outcomes[1]).isGreaterThan(300);
    }

    @Test
    void randomByteFlipsInTheModelHeaderGiveModelFormatExceptionsOrALoad() throws IOException {
        var random = new Random(SEED + 1);
        int header = model.fields.get("data");
        int vocabStart = model.fields.get("key:tokenizer.ggml.tokens");
        int vocabEnd = model.fields.get("key:tokenizer.ggml.eos_token_id");
        int[] outcomes = new int[2];
        for (int c = 0; c < 300; c++) {
            var edits = new ArrayList<int[]>();
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                // mostly the small metadata and the tensor infos around the vocabulary, sometimes the vocabulary itself
                int pos = switch (random.nextInt(3)) {
                    case 0 -> random.nextInt(vocabStart);
                    case 1 -> vocabEnd + random.nextInt(header - vocabEnd);
                    default -> random.nextInt(header);
                };
                edits.add(new int[]{pos, random.nextInt(256)});
            }
            patchAndLoad(edits, "case " + c + " (seed " + (SEED + 1) + "), edits "
                    + edits.stream().map(e -> e[0] + "=" + e[1]).toList(), outcomes);
        }
        assertThat(outcomes[0] + outcomes[1]).isEqualTo(300);
    }
}
