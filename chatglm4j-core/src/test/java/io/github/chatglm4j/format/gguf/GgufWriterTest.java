package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GgufWriter: round trip through the reader, byte equality with an independent encoding, and safe file handling. */
class GgufWriterTest {
    @TempDir
    Path dir;

    static Map<String, GgufValue> everyValue() {
        var m = new LinkedHashMap<String, GgufValue>();
        m.put("general.architecture", GgufValue.string("test"));
        m.put("v.u8", GgufValue.u8(255));
        m.put("v.i8", GgufValue.i8(-128));
        m.put("v.u16", GgufValue.u16(65535));
        m.put("v.i16", GgufValue.i16(-1));
        m.put("v.u32", GgufValue.u32(0xFFFF_FFFFL));
        m.put("v.i32", GgufValue.i32(Integer.MIN_VALUE));
        m.put("v.f32", GgufValue.f32(1e-5f));
        m.put("v.bool", GgufValue.bool(true));
        m.put("v.string", GgufValue.string("[gMASK]sop<|user|>\n 你好 🙂"));
        m.put("v.u64", GgufValue.u64(-2L));
        m.put("v.i64", GgufValue.i64(Long.MAX_VALUE));
        m.put("v.f64", GgufValue.f64(-0.0));
        m.put("v.nan", GgufValue.f32(Float.NaN));
        m.put("a.strings", GgufArray.ofStrings(List.of("<unk>", "▁", "", "[PAD64798]")));
        m.put("a.floats", GgufArray.ofFloats(0f, -1.5f, Float.MIN_VALUE));
        m.put("a.doubles", GgufArray.ofDoubles(Math.E));
        m.put("a.ints", GgufArray.ofInts(1, 2, 3, 6));
        m.put("a.u16", GgufArray.ofIntegers(GgufType.UINT16, 0, 65535));
        m.put("a.i64", GgufArray.ofIntegers(GgufType.INT64, Long.MIN_VALUE));
        m.put("a.bools", GgufArray.ofBools(true, false));
        m.put("a.empty", GgufArray.ofStrings(List.of()));
        m.put("a.nested", GgufArray.ofArrays(List.of(GgufArray.ofStrings(List.of("x")), GgufArray.ofArrays(List.of(GgufArray.ofInts(7))))));
        return m;
    }

    /** Shapes chosen so that most tensors need padding after them. */
    static List<GgufWriter.TensorSpec> someTensors() {
        return List.of(
                new GgufWriter.TensorSpec("norm", TensorType.F32, new long[]{3}),
                new GgufWriter.TensorSpec("half", TensorType.F16, new long[]{5, 3}),
                new GgufWriter.TensorSpec("brain", TensorType.BF16, new long[]{16, 2}),
                new GgufWriter.TensorSpec("q8", TensorType.Q8_0, new long[]{64, 3}),
                new GgufWriter.TensorSpec("q4", TensorType.Q4_0, new long[]{32, 1, 1}),
                new GgufWriter.TensorSpec("k4", TensorType.Q4_K, new long[]{256, 1}),
                new GgufWriter.TensorSpec("cube", TensorType.F32, new long[]{2, 1, 3, 1}));
    }

    private static byte[] randomBytes(Random random, long n) {
        byte[] b = new byte[(int) n];
        random.nextBytes(b);
        return b;
    }

    private Path writeSample(Path out, Map<String, GgufValue> metadata, List<GgufWriter.TensorSpec> specs, Map<String, byte[]> contents) throws IOException {
        try (GgufWriter w = GgufWriter.create(out, metadata, specs, false)) {
            for (var s : specs) {
                w.write(s.name(), MemorySegment.ofArray(contents.get(s.name())));
            }
            w.finish();
        }
        return out;
    }

    @Test
    void roundTripKeepsEveryValueAndTensor() throws IOException {
        var random = new Random(7);
        var contents = new LinkedHashMap<String, byte[]>();
        for (var s : someTensors()) {
            contents.put(s.name(), randomBytes(random, s.byteSize()));
        }
        Path file = writeSample(dir.resolve("rt.gguf"), everyValue(), someTensors(), contents);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.metadata()).containsExactlyEntriesOf(everyValue());
            assertThat(f.alignment()).isEqualTo(32);
            assertThat(f.dataOffset() % 32).isZero();
            long expectedOffset = 0;
            for (var s : someTensors()) {
                GgufTensor t = f.tensor(s.name()).orElseThrow();
                assertThat(t.type()).as(s.name()).isEqualTo(s.type());
                assertThat(t.ne()).as(s.name()).containsExactly(s.ne());
                assertThat(t.offset()).as("offset of %s: the previous tensor padded to 32 bytes", s.name()).isEqualTo(expectedOffset);
                assertThat(t.data().toArray(ValueLayout.JAVA_BYTE)).as("bytes of %s", s.name()).isEqualTo(contents.get(s.name()));
                expectedOffset = (expectedOffset + s.byteSize() + 31) / 32 * 32;
            }
            assertThat(Files.size(file)).as("each tensor padded, the last one too").isEqualTo(f.dataOffset() + expectedOffset);
        }
    }

    @Test
    void outputIsByteIdenticalToAnIndependentEncoding() throws IOException {
        var random = new Random(11);
        var contents = new LinkedHashMap<String, byte[]>();
        for (var s : someTensors()) {
            contents.put(s.name(), randomBytes(random, s.byteSize()));
        }
        Path file = writeSample(dir.resolve("w.gguf"), everyValue(), someTensors(), contents);

        var b = new GgufBytes().header(3, someTensors().size(), everyValue().size());
        everyValue().forEach((k, v) -> b.key(k, v.type().id()).value(v));
        long offset = 0;
        for (var s : someTensors()) {
            b.tensorInfo(s.name(), s.type().ggmlId(), offset, s.ne());
            offset = (offset + s.byteSize() + 31) / 32 * 32;
        }
        b.padTo(32);
        for (var s : someTensors()) {
            b.raw(contents.get(s.name())).padTo(32);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(b.toBytes());
    }

    @Test
    void aLargerAlignmentFromTheMetadataIsUsed() throws IOException {
        var metadata = new LinkedHashMap<String, GgufValue>();
        metadata.put("general.alignment", GgufValue.u32(128));
        var specs = List.of(new GgufWriter.TensorSpec("a", TensorType.F32, new long[]{3}),
                new GgufWriter.TensorSpec("b", TensorType.F16, new long[]{3}));
        var contents = Map.of("a", new byte[12], "b", new byte[]{1, 2, 3, 4, 5, 6});
        Path file = writeSample(dir.resolve("a.gguf"), metadata, specs, contents);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.alignment()).isEqualTo(128);
            assertThat(f.dataOffset() % 128).isZero();
            assertThat(f.tensor("b").orElseThrow().offset()).isEqualTo(128);
            assertThat(f.tensor("b").orElseThrow().data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 2, 3, 4, 5, 6);
        }
    }

    @Test
    void theFileAppearsUnderItsNameOnlyWhenFinished() throws IOException {
        Path out = dir.resolve("m.gguf");
        var specs = List.of(new GgufWriter.TensorSpec("x", TensorType.F32, new long[]{8}));
        try (GgufWriter w = GgufWriter.create(out, Map.of(), specs, false)) {
            w.tensor("x").set(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 42f);
            assertThat(temporaryFiles()).as("written under m.gguf.<random>.tmp").hasSize(1).allMatch(n -> n.startsWith("m.gguf."));
            assertThat(out).doesNotExist();
            w.finish();
            assertThatThrownBy(() -> w.tensor("x")).isInstanceOf(IllegalStateException.class);
        }
        assertThat(out).exists();
        assertThat(temporaryFiles()).isEmpty();

        Path abandoned = dir.resolve("abandoned.gguf");
        try (GgufWriter w = GgufWriter.create(abandoned, Map.of(), specs, false)) {
            w.tensor("x").set(ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 1f);
            // no finish(): as if the conversion failed half way
        }
        assertThat(abandoned).doesNotExist();
        assertThat(temporaryFiles()).isEmpty();
    }

    private List<String> temporaryFiles() {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anExistingFileIsReplacedOnlyWhenAllowed() throws IOException {
        Path out = Files.writeString(dir.resolve("exists.gguf"), "keep me");
        assertThatThrownBy(() -> GgufWriter.create(out, Map.of(), List.of(), false)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(out)).isEqualTo("keep me");
        try (GgufWriter w = GgufWriter.create(out, Map.of("k", GgufValue.u8(1)), List.of(), true)) {
            w.finish();
        }
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.uint("k")).contains(1L);
            assertThat(f.tensors()).isEmpty();
        }
    }

    @Test
    void invalidDeclarationsAreRefused() {
        assertThatThrownBy(() -> new GgufWriter.TensorSpec("x".repeat(64), TensorType.F32, new long[]{1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 63 UTF-8 bytes");
        assertThatThrownBy(() -> new GgufWriter.TensorSpec("q", TensorType.Q8_0, new long[]{16, 2}))
                .hasMessageContaining("row length 16 is not a multiple of the Q8_0 block size 32");
        assertThatThrownBy(() -> new GgufWriter.TensorSpec("five", TensorType.F32, new long[]{1, 1, 1, 1, 1}))
                .hasMessageContaining("5 dimensions");
        assertThatThrownBy(() -> new GgufWriter.TensorSpec("zero", TensorType.F32, new long[]{0}))
                .hasMessageContaining("dimension 0");
        var twice = List.of(new GgufWriter.TensorSpec("t", TensorType.F32, new long[]{1}), new GgufWriter.TensorSpec("t", TensorType.F32, new long[]{2}));
        assertThatThrownBy(() -> GgufWriter.create(dir.resolve("d.gguf"), Map.of(), twice, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'t' is declared twice");
        assertThat(temporaryFiles()).isEmpty();
        assertThatThrownBy(() -> GgufWriter.create(dir.resolve("e.gguf"), Map.of("general.alignment", GgufValue.u32(3)), List.of(), false))
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> GgufValue.u8(256)).hasMessageContaining("does not fit in uint8");
        assertThatThrownBy(() -> GgufValue.string("\uD800")).hasMessageContaining("unpaired surrogate");
    }

    @Test
    void writeChecksTheSize() throws IOException {
        var specs = List.of(new GgufWriter.TensorSpec("x", TensorType.F16, new long[]{4}));
        try (GgufWriter w = GgufWriter.create(dir.resolve("s.gguf"), Map.of(), specs, false)) {
            assertThatThrownBy(() -> w.write("x", MemorySegment.ofArray(new byte[7]))).hasMessageContaining("takes 8 bytes, got 7");
            assertThatThrownBy(() -> w.tensor("y")).hasMessageContaining("no tensor 'y'");
        }
    }
}
