package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Damaged, hostile and unsupported inputs all end in a one-line {@link ModelFormatException} that names the file
 * and says what is wrong, never in another exception or a read outside the file.
 */
class TorchCheckpointErrorTest {
    private static final Path FIXTURE = Path.of(System.getProperty("chatglm.fixtures"))
            .resolve("tiny-chatglm3/pytorch_model.bin");
    private static final Path IMAGE = Path.of("image.bin");

    private static byte[] fixtureBytes;

    @TempDir
    Path dir;

    /** A fresh copy of the fixture's bytes (read from disk once). */
    private static synchronized byte[] fixture() throws IOException {
        if (fixtureBytes == null) {
            fixtureBytes = Files.readAllBytes(FIXTURE);
        }
        return fixtureBytes.clone();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            bad-compressed-pickle.bin     | entry 'archive/data.pkl' is compressed (ZIP method 8, deflate)
            bad-compressed-storage.bin    | entry 'archive/data/1' is compressed (ZIP method 8, deflate)
            bad-noncontiguous.bin         | tensor 'w' is not contiguous (size [3, 2], stride [1, 3])
            bad-long-storage.bin          | tensor 'w' has unsupported element type torch.LongStorage
            bad-offset-out-of-range.bin   | tensor 'w' covers elements 10 to 14 of storage '0', which has only 12 elements
            bad-storage-too-small.bin     | entry 'archive/data/0' holds 40 bytes: the file is truncated
            bad-missing-storage.bin       | tensor 'w' refers to storage '7', but the archive has no entry 'archive/data/7'
            bad-big-endian.bin            | written with 'big' byte order
            bad-global-os-system.bin      | archive/data.pkl, byte 2: forbidden global os.system
            bad-global-builtins-eval.bin  | forbidden global builtins.eval
            bad-unknown-opcode.bin        | archive/data.pkl, byte 5: unsupported pickle opcode 0xff (not a pickle opcode)
            bad-string-opcode.bin         | archive/data.pkl, byte 6: unsupported pickle opcode STRING (0x53)
            """)
    void eachDefectiveFileIsRefusedWithAMessageNamingTheDefect(String file, String expected) {
        assertRefused(TestFiles.resource(file), expected);
    }

    @ParameterizedTest(name = "first {0} bytes")
    @ValueSource(longs = {0, 1, 21, 22, 30, 100, 2200, 8_000_000, 16_849_000, 16_849_700 - 120, 16_849_700 - 23,
            16_849_700 - 1})
    void aTruncatedCheckpointIsReportedAsTruncated(long length) throws IOException {
        byte[] whole = fixture();
        assertThat(whole.length).isEqualTo(16_849_700);
        assertRefused(MemorySegment.ofArray(whole).asSlice(0, length), "truncated");
    }

    @Test
    void aTruncatedFileOnDiskIsReportedAsTruncated() throws IOException {
        assertRefused(write("truncated.bin", Arrays.copyOf(fixture(), 10_000_000)), "truncated");
    }

    @Test
    void aBrokenLocalHeaderSignatureIsReported() throws IOException {
        byte[] bytes = fixture();
        bytes[0] = 'X';
        assertRefused(write("magic.bin", bytes),
                "no ZIP local file header at offset 0 for entry 'pytorch_model/data.pkl' (bad signature)");
    }

    @Test
    void aBrokenEndOfCentralDirectorySignatureIsReported() throws IOException {
        byte[] bytes = fixture();
        bytes[bytes.length - 22] = 'X';
        assertRefused(MemorySegment.ofArray(bytes), "no ZIP end of central directory record");
    }

    @Test
    void aCentralDirectoryOffsetPastTheEndIsReported() throws IOException {
        byte[] bytes = fixture();
        var buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long zip64Record = buffer.getLong(bytes.length - 22 - 20 + 8); // from the Zip64 locator
        buffer.putLong((int) zip64Record + 48, bytes.length + 1000L);
        assertRefused(MemorySegment.ofArray(bytes), "central directory (offset 16850700,", "lies outside the file");
    }

    @Test
    void aZip64LocatorPointingOutsideTheFileIsReported() throws IOException {
        byte[] bytes = fixture();
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(bytes.length - 22 - 20 + 8, -2L);
        assertRefused(MemorySegment.ofArray(bytes), "Zip64 end of central directory record at offset 18446744073709551614",
                "lies outside the file");
    }

    @Test
    void anEntrySizeReachingPastItsSpaceIsReported() throws IOException {
        byte[] bytes = fixture();
        int record = centralRecord(bytes, "pytorch_model/data/16");
        var buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(record + 20, 0x7FFF_FFFF);
        buffer.putInt(record + 24, 0x7FFF_FFFF);
        assertRefused(MemorySegment.ofArray(bytes), "entry 'pytorch_model/data/16' (2147483647 bytes at offset",
                "extends past the start of the central directory");
    }

    @Test
    void aLocalHeaderOffsetOutsideTheFileIsReported() throws IOException {
        byte[] bytes = fixture();
        int record = centralRecord(bytes, "pytorch_model/data/3");
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(record + 42, 0xFFFF_FFF0);
        assertRefused(MemorySegment.ofArray(bytes), "local header of entry 'pytorch_model/data/3' at offset 4294967280");
    }

    @Test
    void aCorruptedPickleFailsItsCrcCheck() throws IOException {
        byte[] bytes = fixture();
        int at = indexOf(bytes, "transformer.embedding".getBytes(StandardCharsets.US_ASCII));
        bytes[at] = 'T';
        assertRefused(MemorySegment.ofArray(bytes), "'pytorch_model/data.pkl' fails its CRC-32 check");
    }

    @ParameterizedTest(name = "first {0} bytes of data.pkl")
    @ValueSource(ints = {0, 1, 2, 7, 60, 100, 1000, 2044})
    void aTruncatedPickleInAnIntactArchiveIsReportedAsTruncated(int length) throws IOException {
        byte[] pickle;
        try (var zip = new ZipFile(FIXTURE.toFile())) {
            pickle = zip.getInputStream(zip.getEntry("pytorch_model/data.pkl")).readAllBytes();
        }
        assertThat(pickle.length).isEqualTo(2045);
        // The storages are left out: reading stops in the pickle, before any storage is looked up.
        var entries = new LinkedHashMap<String, byte[]>();
        entries.put("pytorch_model/data.pkl", Arrays.copyOf(pickle, length));
        assertRefused(write("short-pickle.bin", TestFiles.storedZip(entries)), "pytorch_model/data.pkl, byte ",
                "truncated");
    }

    @Test
    void theLegacyNonZipFormatIsRecognised() throws IOException {
        var legacy = write("legacy.bin", Files.readAllBytes(TestFiles.resource("plain-values-p2.pkl")));
        assertRefused(legacy, "legacy torch.save format");
    }

    @Test
    void aZipWithoutDataPklIsNotACheckpoint() throws IOException {
        var map = new LinkedHashMap<String, byte[]>();
        map.put("something/else.txt", new byte[]{1, 2, 3});
        assertRefused(write("other.zip", TestFiles.storedZip(map)), "no <name>/data.pkl entry");
    }

    @Test
    void missingFilesAndDirectoriesAreReported() {
        assertRefused(dir.resolve("absent.bin"), "no such file");
        assertRefused(dir, "not a regular file");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static void assertRefused(Path file, String... fragments) {
        var error = catchThrowableOfType(ModelFormatException.class, () -> TorchCheckpoint.open(file).close());
        assertThat(error).as("opening %s must fail with ModelFormatException", file.getFileName()).isNotNull();
        assertThat(error.file()).isEqualTo(file);
        assertThat(error.getMessage()).as("message").startsWith(file + ": ").doesNotContain("\n");
        for (var fragment : fragments) {
            assertThat(error.getMessage()).as("message").contains(fragment);
        }
    }

    /** The same checks on an in-memory image, which spares the tests writing 16 MB files. */
    private static void assertRefused(MemorySegment image, String... fragments) {
        var error = catchThrowableOfType(ModelFormatException.class, () -> StateDictReader.read(image, IMAGE));
        assertThat(error).as("reading the image must fail with ModelFormatException").isNotNull();
        assertThat(error.getMessage()).as("message").startsWith(IMAGE + ": ").doesNotContain("\n");
        for (var fragment : fragments) {
            assertThat(error.getMessage()).as("message").contains(fragment);
        }
    }

    /** Start of the central directory record naming {@code name}. */
    private static int centralRecord(byte[] zip, String name) {
        byte[] wanted = name.getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at + 46 + wanted.length <= zip.length; at++) {
            if (zip[at] == 'P' && zip[at + 1] == 'K' && zip[at + 2] == 1 && zip[at + 3] == 2
                    && ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).getShort(at + 28) == wanted.length
                    && Arrays.equals(zip, at + 46, at + 46 + wanted.length, wanted, 0, wanted.length)) {
                return at;
            }
        }
        throw new AssertionError("no central directory record for " + name);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int at = 0; at + needle.length <= haystack.length; at++) {
            if (Arrays.equals(haystack, at, at + needle.length, needle, 0, needle.length)) {
                return at;
            }
        }
        throw new AssertionError("not found");
    }
}
