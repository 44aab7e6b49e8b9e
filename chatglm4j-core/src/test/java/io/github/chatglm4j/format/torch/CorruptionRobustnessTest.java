package io.github.chatglm4j.format.torch;

import io.github.chatglm4j.format.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.fail;

/**
 * Randomly damaged checkpoints (fixed seeds, so failures reproduce) either still load or fail with a
 * {@link ModelFormatException}: no other exception, whatever the damage.
 */
class CorruptionRobustnessTest {
    private static final Path NAME = Path.of("damaged.bin");

    @Test
    void damagedArchivesOnlyEverFailWithModelFormatException() throws IOException {
        byte[] original = Files.readAllBytes(TestFiles.resource("shared-storage-zip64.bin"));
        var random = new Random(20240601);
        for (int trial = 0; trial < 3_000; trial++) {
            byte[] damaged = damage(original, random);
            check(damaged, () -> StateDictReader.read(MemorySegment.ofArray(damaged), NAME));
        }
    }

    /** The archive's CRC check would catch most pickle damage first, so the pickle reader is fed directly. */
    @Test
    void damagedPicklesOnlyEverFailWithModelFormatException() throws IOException {
        byte[] original;
        try (var zip = new ZipFile(TestFiles.resource("shared-storage.bin").toFile())) {
            original = zip.getInputStream(zip.getEntry("shared-storage/data.pkl")).readAllBytes();
        }
        var random = new Random(7);
        for (int trial = 0; trial < 5_000; trial++) {
            byte[] damaged = damage(original, random);
            check(damaged, () -> PickleMachine.load(MemorySegment.ofArray(damaged), new TorchPickle(), NAME, "data.pkl"));
        }
    }

    /** One to three random byte changes, and a truncation one time in four. */
    private static byte[] damage(byte[] original, Random random) {
        byte[] bytes = original.clone();
        for (int i = random.nextInt(1, 4); i > 0; i--) {
            bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
        return random.nextInt(4) == 0 ? Arrays.copyOf(bytes, random.nextInt(bytes.length)) : bytes;
    }

    private static void check(byte[] damaged, Runnable read) {
        try {
            read.run();
        } catch (ModelFormatException expected) {
            // the only acceptable failure
        } catch (RuntimeException | StackOverflowError e) {
            fail("damaged input " + HexFormat.of().formatHex(damaged) + " threw " + e, e);
        }
    }
}
