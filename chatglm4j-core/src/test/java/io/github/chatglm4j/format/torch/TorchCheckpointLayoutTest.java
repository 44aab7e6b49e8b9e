package io.github.chatglm4j.format.torch;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tensor layouts beyond the fixture, from files pickled by Python's own pickler the way torch.save does it
 * (see make_test_files.py for the values each file holds).
 */
class TorchCheckpointLayoutTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"shared-storage.bin", "shared-storage-zip64.bin"})
    void viewsOfOneStorageEachSeeTheirOwnOffsetAndShape(String file) {
        try (var checkpoint = TorchCheckpoint.open(TestFiles.resource(file))) {
            assertThat(checkpoint.tensors()).extracting(TensorEntry::name)
                    .containsExactly("a", "b", "scalar", "row", "empty", "p");
            // Storage "0" holds the float32 values 0, 1, ..., 11.
            var a = tensor(checkpoint, "a", TensorType.F32, 2, 3);
            var b = tensor(checkpoint, "b", TensorType.F32, 6);
            var scalar = tensor(checkpoint, "scalar", TensorType.F32);
            var row = tensor(checkpoint, "row", TensorType.F32, 1, 3);
            var empty = tensor(checkpoint, "empty", TensorType.F32, 0, 4);
            assertThat(floats(a)).containsExactly(0f, 1f, 2f, 3f, 4f, 5f);
            assertThat(floats(b)).containsExactly(6f, 7f, 8f, 9f, 10f, 11f);
            assertThat(floats(scalar)).containsExactly(5f);
            assertThat(floats(row)).containsExactly(3f, 4f, 5f);
            assertThat(empty.data().byteSize()).isZero();
            // Views share the mapped storage instead of copying it.
            assertThat(b.data().address() - a.data().address()).as("b starts 6 floats after a").isEqualTo(24);
            assertThat(row.data().address() - a.data().address()).as("row starts 3 floats after a").isEqualTo(12);

            // A Parameter on a bfloat16 storage holding 1, -2, 0.5, 3.
            var p = tensor(checkpoint, "p", TensorType.BF16, 2, 2);
            var values = new float[4];
            for (int i = 0; i < 4; i++) {
                values[i] = Float.intBitsToFloat(p.data().get(I16, 2L * i) << 16);
            }
            assertThat(values).containsExactly(1f, -2f, 0.5f, 3f);
        }
    }

    @Test
    void threeHundredTensorsNeedLongMemoIndicesAndAllComeBackRight() {
        try (var checkpoint = TorchCheckpoint.open(TestFiles.resource("many-tensors.bin"))) {
            assertThat(checkpoint.tensors()).hasSize(300);
            for (int i = 0; i < 300; i++) {
                var t = checkpoint.tensors().get(i);
                assertThat(t.name()).isEqualTo("t" + i);
                assertThat(t.shape()).containsExactly(2);
                if (i < 150) {
                    assertThat(t.type()).as("type of %s", t.name()).isEqualTo(TensorType.F16);
                    assertThat(Float.float16ToFloat(t.data().get(I16, 0))).isEqualTo(i);
                    assertThat(Float.float16ToFloat(t.data().get(I16, 2))).isEqualTo(-i);
                } else {
                    assertThat(t.type()).as("type of %s", t.name()).isEqualTo(TensorType.F32);
                    assertThat(floats(t)).as("values of %s", t.name()).containsExactly(i, -i);
                }
            }
        }
    }

    /**
     * A checkpoint larger than 4 GiB (a sparse file: a 4.3 GB float16 storage that is a hole, then entries whose
     * local headers lie past 4 GiB), so every Zip64 field and 64-bit offset is exercised.
     */
    @Test
    void aCheckpointLargerThan4GiBIsReadThroughZip64(@TempDir Path dir) throws IOException {
        var layout = new ObjectMapper().readTree(TestFiles.resource("sparse-4gib.json").toFile());
        long holeOffset = layout.get("holeOffset").asLong();
        long holeLength = layout.get("holeLength").asLong();
        Path file = dir.resolve("sparse.bin");
        try (var channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            channel.write(ByteBuffer.wrap(Files.readAllBytes(TestFiles.resource("sparse-4gib.head"))), 0);
            channel.write(ByteBuffer.wrap(Files.readAllBytes(TestFiles.resource("sparse-4gib.tail"))),
                    holeOffset + holeLength);
        }
        assertThat(Files.size(file)).isEqualTo(layout.get("fileSize").asLong()).isGreaterThan(1L << 32);

        byte[] small;
        try (var zip = new ZipFile(file.toFile())) {
            small = zip.getInputStream(zip.getEntry("sparse/data/1")).readAllBytes();
        }
        try (var checkpoint = TorchCheckpoint.open(file)) {
            var big = tensor(checkpoint, "big", TensorType.F16, 65536, 32769);
            assertThat(big.data().byteSize()).isEqualTo(holeLength).isGreaterThan(1L << 32);
            assertThat(big.data().get(ValueLayout.JAVA_BYTE, 0)).isZero();
            assertThat(big.data().get(ValueLayout.JAVA_BYTE, holeLength - 1)).isZero();
            var bigTail = tensor(checkpoint, "big_tail", TensorType.F16, 8);
            assertThat(bigTail.data().address() - big.data().address()).isEqualTo(holeLength - 16);

            var smallTensor = tensor(checkpoint, "small", TensorType.F32, 2, 2);
            assertThat(floats(smallTensor)).containsExactly(1f, 2f, 3f, 4f);
            assertThat(smallTensor.data().mismatch(MemorySegment.ofArray(small)))
                    .as("entry past 4 GiB vs the JDK's reading of it").isEqualTo(-1);
        }
    }

    private static TensorEntry tensor(TorchCheckpoint checkpoint, String name, TensorType type, long... shape) {
        var tensor = checkpoint.tensor(name).orElseThrow(() -> new AssertionError("no tensor " + name));
        assertThat(tensor.type()).as("type of %s", name).isEqualTo(type);
        assertThat(tensor.shape()).as("shape of %s", name).containsExactly(shape);
        assertThat(tensor.data().byteSize()).as("byte size of %s", name)
                .isEqualTo(type.byteSize(tensor.elementCount()));
        return tensor;
    }

    private static float[] floats(TensorEntry tensor) {
        return tensor.data().toArray(F32);
    }
}
