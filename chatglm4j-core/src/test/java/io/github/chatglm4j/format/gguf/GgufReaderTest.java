package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The reader against GGUF files built byte by byte in the test (independent of the engine's writer), for versions 2
 * and 3: every value type decodes to what was written, tensors land on the right bytes, and malformed headers
 * give one-line errors naming the file.
 */
public class GgufReaderTest {
    @TempDir
    Path dir;

    // GGUF value type numbers and ggml type ids, from the format description
    static final int U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STR = 8, ARR = 9, U64 = 10, I64 = 11, F64 = 12;
    static final int GGML_F32 = 0, GGML_F16 = 1, GGML_Q8_0 = 8;

    /** A file with one value of every type, nested arrays and three tensors of different types. */
    public static GgufBytes everyType(int version, Integer alignment) {
        int entries = 21 + (alignment != null ? 1 : 0);
        var b = new GgufBytes().header(version, 3, entries);
        b.key("t.u8", U8).u8(200);
        b.key("t.i8", I8).u8(-5);
        b.key("t.u16", U16).u16(60000);
        b.key("t.i16", I16).u16(-30000);
        b.key("t.u32", U32).u32(4_000_000_000L);
        b.key("t.i32", I32).u32(-2_000_000_000);
        b.key("t.f32", F32).f32(1.5f);
        b.key("t.bool", BOOL).u8(1);
        b.key("t.false", BOOL).u8(0);
        b.key("t.string", STR).str("héllo ✓ 你好");
        b.key("t.u64", U64).u64(-1L);
        b.key("t.i64", I64).u64(Long.MIN_VALUE);
        b.key("t.f64", F64).f64(Math.PI);
        b.key("t.empty", STR).str("");
        if (alignment != null) {
            b.key("general.alignment", U32).u32(alignment);
        }
        b.key("a.strings", ARR).u32(STR).u64(3).str("a").str("").str("中文");
        b.key("a.f32", ARR).u32(F32).u64(3).f32(-0.5f).f32(0f).f32(1e-5f);
        b.key("a.i32", ARR).u32(I32).u64(4).u32(-1).u32(0).u32(7).u32(Integer.MAX_VALUE);
        b.key("a.u8", ARR).u32(U8).u64(2).u8(0).u8(255);
        b.key("a.u64.empty", ARR).u32(U64).u64(0);
        // [["x", "yz"], [-1, 0, 7]]
        b.key("a.nested", ARR).u32(ARR).u64(2)
                .u32(STR).u64(2).str("x").str("yz")
                .u32(I32).u64(3).u32(-1).u32(0).u32(7);
        // [[[true]], []]
        b.key("a.deep", ARR).u32(ARR).u64(2)
                .u32(ARR).u64(1).u32(BOOL).u64(1).u8(1)
                .u32(F64).u64(0);
        // tensors: F32 [3] (12 bytes, padded), F16 ne [4, 2] (16 bytes, padded), Q8_0 ne [32, 1] (34 bytes)
        int a = alignment == null ? 32 : alignment;
        long matOffset = (12 + a - 1) / a * a;
        long q8Offset = (matOffset + 16 + a - 1) / a * a;
        b.tensorInfo("vec", GGML_F32, 0, 3);
        b.tensorInfo("mat", GGML_F16, matOffset, 4, 2);
        b.tensorInfo("q8", GGML_Q8_0, q8Offset, 32, 1);
        b.padTo(a).mark("data");
        for (int i = 0; i < 3; i++) {
            b.f32(i + 0.25f);
        }
        b.padTo(a);
        for (int i = 0; i < 8; i++) {
            b.u16(Float.floatToFloat16(i * 0.5f));
        }
        b.padTo(a);
        for (int i = 0; i < 34; i++) {
            b.u8(i);
        }
        return b;
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(ints = {2, 3})
    void everyValueTypeDecodesToWhatWasWritten(int version) throws IOException {
        Path file = everyType(version, null).writeTo(dir.resolve("all.gguf"));
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.version()).isEqualTo(version);
            assertThat(f.metadata().keySet()).as("keys in file order").startsWith("t.u8", "t.i8", "t.u16", "t.i16", "t.u32")
                    .hasSize(21);
            assertThat(f.value("t.u8")).contains(new GgufValue.Int(GgufType.UINT8, 200));
            assertThat(f.value("t.i8")).contains(new GgufValue.Int(GgufType.INT8, -5));
            assertThat(f.value("t.u16")).contains(new GgufValue.Int(GgufType.UINT16, 60000));
            assertThat(f.value("t.i16")).contains(new GgufValue.Int(GgufType.INT16, -30000));
            assertThat(f.uint("t.u32")).contains(4_000_000_000L);
            assertThat(f.integer("t.i32")).contains(-2_000_000_000L);
            assertThat(f.real("t.f32")).contains(1.5);
            assertThat(f.bool("t.bool")).contains(true);
            assertThat(f.bool("t.false")).contains(false);
            assertThat(f.string("t.string")).contains("héllo ✓ 你好");
            assertThat(f.string("t.empty")).contains("");
            assertThat(f.value("t.u64")).contains(new GgufValue.Int(GgufType.UINT64, -1L));
            assertThat(f.integer("t.i64")).contains(Long.MIN_VALUE);
            assertThat(f.real("t.f64")).contains(Math.PI);
            assertThat(f.strings("a.strings")).contains(List.of("a", "", "中文"));
            assertThat(f.floats("a.f32").orElseThrow()).containsExactly(-0.5f, 0f, 1e-5f);
            assertThat(f.ints("a.i32").orElseThrow()).containsExactly(-1, 0, 7, Integer.MAX_VALUE);
            assertThat(f.array("a.u8").orElseThrow().longs()).containsExactly(0, 255);
            assertThat(f.array("a.u64.empty").orElseThrow().size()).isZero();
            assertThat(f.array("a.u64.empty").orElseThrow().elementType()).isEqualTo(GgufType.UINT64);

            List<GgufArray> nested = f.array("a.nested").orElseThrow().arrays();
            assertThat(nested).hasSize(2);
            assertThat(nested.get(0).strings()).containsExactly("x", "yz");
            assertThat(nested.get(1).ints()).containsExactly(-1, 0, 7);
            assertThat(f.array("a.nested").orElseThrow()).isEqualTo(GgufArray.ofArrays(List.of(
                    GgufArray.ofStrings(List.of("x", "yz")), GgufArray.ofInts(-1, 0, 7))));
            List<GgufArray> deep = f.array("a.deep").orElseThrow().arrays();
            assertThat(deep.get(0).arrays().get(0).bools()).containsExactly(true);
            assertThat(deep.get(1).elementType()).isEqualTo(GgufType.FLOAT64);
            assertThat(deep.get(1).size()).isZero();
            assertThat(f.value("missing")).isEmpty();
            assertThat(f.uint("missing")).isEmpty();
        }
    }

    @ParameterizedTest(name = "alignment {0}")
    @ValueSource(ints = {32, 64, 8})
    void tensorsAreSlicesOfTheDataSectionAtTheirAlignedOffsets(int alignment) throws IOException {
        GgufBytes b = everyType(3, alignment == 32 ? null : alignment);
        Path file = b.writeTo(dir.resolve("t.gguf"));
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(f.alignment()).isEqualTo(alignment);
            assertThat(f.dataOffset()).isEqualTo((long) b.fields.get("data")).matches(o -> o % alignment == 0);
            assertThat(f.tensors()).extracting(GgufTensor::name).containsExactly("vec", "mat", "q8");

            GgufTensor vec = f.tensor("vec").orElseThrow();
            assertThat(vec.type()).isEqualTo(TensorType.F32);
            assertThat(vec.ne()).containsExactly(3);
            assertThat(vec.data().byteSize()).isEqualTo(12);
            assertThat(vec.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED)).containsExactly(0.25f, 1.25f, 2.25f);

            GgufTensor mat = f.tensor("mat").orElseThrow();
            assertThat(mat.type()).isEqualTo(TensorType.F16);
            assertThat(mat.ne()).containsExactly(4, 2);
            assertThat(mat.shape()).as("PyTorch order").containsExactly(2, 4);
            assertThat(mat.offset()).isEqualTo(Math.max(16, alignment));
            short[] halves = mat.data().toArray(ValueLayout.JAVA_SHORT_UNALIGNED);
            for (int i = 0; i < 8; i++) {
                assertThat(Float.float16ToFloat(halves[i])).as("mat element %d", i).isEqualTo(i * 0.5f);
            }

            GgufTensor q8 = f.tensor("q8").orElseThrow();
            assertThat(q8.type()).isEqualTo(TensorType.Q8_0);
            assertThat(q8.data().byteSize()).isEqualTo(34);
            byte[] raw = q8.data().toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < 34; i++) {
                assertThat(raw[i]).as("q8 byte %d", i).isEqualTo((byte) i);
            }
        }
    }

    @Test
    void wrongTypedGettersNameTheKeyAndTheType() throws IOException {
        Path file = everyType(3, null).writeTo(dir.resolve("t.gguf"));
        try (GgufFile f = GgufFile.open(file)) {
            assertThatThrownBy(() -> f.string("t.u32")).isInstanceOf(ModelFormatException.class)
                    .hasMessage(file + ": metadata 't.u32' is a uint32, expected a string");
            assertThatThrownBy(() -> f.uint("t.i32")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("'t.i32' is -2000000000");
            assertThatThrownBy(() -> f.integer("t.u64")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("18446744073709551615, too large");
            assertThatThrownBy(() -> f.floats("a.i32")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("int32 values, not float32");
            assertThatThrownBy(() -> f.array("t.string")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("is a string, expected an array");
            assertThatThrownBy(f::architecture).isInstanceOf(ModelFormatException.class)
                    .hasMessage(file + ": has no general.architecture");
        }
    }

    @Test
    void metadataStaysUsableAfterClose() throws IOException {
        Path file = everyType(3, null).writeTo(dir.resolve("t.gguf"));
        GgufFile f = GgufFile.open(file);
        f.close();
        assertThat(f.strings("a.strings")).contains(List.of("a", "", "中文"));
        f.close(); // twice is harmless
    }

    // ---- malformed files ----

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private void assertRejected(byte[] bytes, String expectedMessagePart) throws IOException {
        Path file = write("bad.gguf", bytes);
        assertThatThrownBy(() -> GgufFile.open(file).close())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(expectedMessagePart);
    }

    /** A valid file, then {@code change} applied to its bytes at the offset of the named field. */
    private byte[] patched(String field, Consumer<java.nio.ByteBuffer> change) {
        GgufBytes b = everyType(3, null);
        byte[] bytes = b.toBytes();
        var buf = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.position(b.fields.get(field));
        change.accept(buf);
        return bytes;
    }

    @Test
    void badMagicIsNotAGgufFile() throws IOException {
        assertRejected("GGML\3\0\0\0".getBytes(StandardCharsets.ISO_8859_1), "not a GGUF file: it starts with 0x47474D4C");
        assertRejected(new byte[]{'G', 'G'}, "not a GGUF file: only 2 bytes");
        assertRejected(new byte[0], "only 0 bytes");
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(ints = {0, 1, 4, 0x02000000, 0x03000000})
    void unsupportedVersionsAreNamed(int version) throws IOException {
        byte[] bytes = patched("version", b -> b.putInt(version));
        String expected = switch (version) {
            case 1 -> "GGUF version 1 is not supported";
            case 0x02000000 -> "big-endian GGUF file (version 2 stored byte-swapped)";
            case 0x03000000 -> "big-endian GGUF file (version 3 stored byte-swapped)";
            default -> "unsupported GGUF version " + version + " (this reader supports versions 2 and 3)";
        };
        assertRejected(bytes, expected);
    }

    @Test
    void hugeCountsFailBeforeAllocating() throws IOException {
        assertRejected(patched("kv_count", b -> b.putLong(1L << 60)), "metadata entry count is 1152921504606846976, more than the limit");
        assertRejected(patched("kv_count", b -> b.putLong(60_000)), "truncated: metadata entry count is 60000");
        assertRejected(patched("tensor_count", b -> b.putLong(-1)), "tensor count is 18446744073709551615");
        assertRejected(patched("key:t.string", b -> b.putLong(1L << 60)), "key of metadata entry 9 is 1152921504606846976 bytes long");
        // the string value's length: right after the key and type
        GgufBytes ref = everyType(3, null);
        int stringValue = ref.fields.get("type:t.string") + 4;
        byte[] bytes = ref.toBytes();
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(stringValue, Long.MAX_VALUE);
        assertRejected(bytes, "value of 't.string' needs 9223372036854775807 bytes");
        int arrayCount = ref.fields.get("type:a.strings") + 8;
        bytes = ref.toBytes();
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(arrayCount, 1L << 60);
        assertRejected(bytes, "element count of array 'a.strings' is 1152921504606846976");
    }

    @Test
    void unknownTypesAreNamed() throws IOException {
        assertRejected(patched("type:t.u8", b -> b.putInt(13)), "metadata 't.u8' has unknown value type 13");
        GgufBytes ref = everyType(3, null);
        byte[] bytes = ref.toBytes();
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(ref.fields.get("type:a.u8") + 4, 99);
        assertRejected(bytes, "array 'a.u8' has unknown element type 99");
        assertRejected(patched("t:mat.type", b -> b.putInt(16)),
                "tensor 'mat' has ggml type 16 (IQ2_XXS), which chatglm4j cannot read");
        assertRejected(patched("t:mat.type", b -> b.putInt(-1)), "tensor 'mat' has ggml type 4294967295 (unknown)");
    }

    @Test
    void tensorInfosAreChecked() throws IOException {
        assertRejected(patched("t:vec.ndims", b -> b.putInt(5)), "tensor 'vec' has 5 dimensions, at most 4");
        assertRejected(patched("t:mat.offset", b -> b.putLong(33)), "data offset 33, not a multiple of the alignment 32");
        assertRejected(patched("t:q8.offset", b -> b.putLong(96)), "tensor 'q8' [32, 1] Q8_0 needs bytes 96 to 130 of the data section, which holds only 98 bytes");
        assertRejected(patched("t:q8.ne0", b -> b.putLong(16)), "row length 16 is not a multiple of the Q8_0 block size 32");
        assertRejected(patched("t:mat.ne1", b -> b.putLong(1L << 62)), "tensor 'mat' [4, 4611686018427387904] F16 has more than 2^63 elements");
        assertRejected(patched("t:mat.ne1", b -> b.putLong(-5)), "has dimension 1 = 18446744073709551611, too large");
        assertRejected(patched("t:mat.ne1", b -> b.putLong(1L << 40)), "which holds only");
        assertRejected(patched("t:mat.offset", b -> b.putLong(Long.MAX_VALUE - 31)), "which holds only");
        byte[] renamed = patched("t:mat.name", b -> {
            b.getLong();
            b.put((byte) 'v').put((byte) 'e').put((byte) 'c');
        });
        assertRejected(renamed, "tensor 'vec' appears twice");
    }

    @Test
    void truncatedDataSectionIsReported() throws IOException {
        byte[] full = everyType(3, null).toBytes();
        assertRejected(java.util.Arrays.copyOf(full, full.length - 1), "tensor 'q8' [32, 1] Q8_0 needs bytes 64 to 98 of the data section, which holds only 97 bytes (file truncated?)");
    }

    @Test
    void duplicateKeysAndBadUtf8AreRejected() throws IOException {
        var b = new GgufBytes().header(3, 0, 2);
        b.key("k", U8).u8(1);
        b.key("k", U8).u8(2);
        assertRejected(b.toBytes(), "metadata key 'k' appears twice");

        var bad = new GgufBytes().header(3, 0, 1);
        bad.key("s", STR).rawString(new byte[]{'a', (byte) 0xC0, (byte) 0x80});
        assertRejected(bad.toBytes(), "value of 's' is not valid UTF-8 (byte 1 of 3)");

        var badKey = new GgufBytes().header(3, 0, 1);
        badKey.rawString(new byte[]{(byte) 0xED, (byte) 0xA0, (byte) 0x80}).u32(U8).u8(0); // an encoded surrogate
        assertRejected(badKey.toBytes(), "key of metadata entry 0 is not valid UTF-8");

        var badElement = new GgufBytes().header(3, 0, 1);
        badElement.key("a", ARR).u32(STR).u64(2).str("ok").rawString(new byte[]{(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80});
        assertRejected(badElement.toBytes(), "element 1 of array 'a' is not valid UTF-8");
    }

    @Test
    void alignmentMustBeAUint32PowerOfTwo() throws IOException {
        var b = new GgufBytes().header(3, 0, 1);
        b.key("general.alignment", U32).u32(48);
        assertRejected(b.toBytes(), "general.alignment is 48, not a power of two");
        var zero = new GgufBytes().header(3, 0, 1);
        zero.key("general.alignment", U32).u32(0);
        assertRejected(zero.toBytes(), "general.alignment is 0, not a power of two");
        var wide = new GgufBytes().header(3, 0, 1);
        wide.key("general.alignment", U64).u64(32);
        assertRejected(wide.toBytes(), "general.alignment must be a uint32, found uint64 32");
    }

    @Test
    void deeplyNestedArraysAreRefused() throws IOException {
        var b = new GgufBytes().header(3, 0, 1);
        b.key("deep", ARR);
        for (int i = 0; i < 10_000; i++) {
            b.u32(ARR).u64(1);
        }
        b.u32(U8).u64(0);
        assertRejected(b.toBytes(), "nests arrays more than 8 deep");
    }

    @Test
    void notAFile() {
        assertThatThrownBy(() -> GgufFile.open(dir)).isInstanceOf(ModelFormatException.class).hasMessageContaining("is a directory");
        assertThatThrownBy(() -> GgufFile.open(dir.resolve("none.gguf"))).isInstanceOf(ModelFormatException.class)
                .hasMessage(dir.resolve("none.gguf") + ": file not found");
    }

    @Test
    void isGgufLooksAtTheMagicOfRegularFilesOnly() throws IOException {
        assertThat(GgufFile.isGguf(write("a.gguf", everyType(3, null).toBytes()))).isTrue();
        assertThat(GgufFile.isGguf(write("b.gguf", "GGU".getBytes(StandardCharsets.US_ASCII)))).isFalse();
        assertThat(GgufFile.isGguf(write("c.bin", "GGUFxxxx".getBytes(StandardCharsets.US_ASCII)))).isTrue();
        assertThat(GgufFile.isGguf(dir)).isFalse();
        assertThat(GgufFile.isGguf(dir.resolve("missing"))).isFalse();
    }
}
