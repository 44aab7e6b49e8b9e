package io.github.chatglm4j.format.torch;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tiny-chatglm3 fixture's pytorch_model.bin against the same weights as safetensors and the JDK's ZIP reader. */
class TorchCheckpointFixtureTest {
    private static final Path DIR = Path.of(System.getProperty("chatglm.fixtures")).resolve("tiny-chatglm3");
    private static final Path BIN = DIR.resolve("pytorch_model.bin");

    @Test
    void everyTensorEqualsTheSafetensorsShardsInNameTypeShapeAndBytes() throws IOException {
        var expected = new HashMap<String, SafetensorsOracle.Tensor>();
        expected.putAll(SafetensorsOracle.read(DIR.resolve("model-00001-of-00002.safetensors")));
        expected.putAll(SafetensorsOracle.read(DIR.resolve("model-00002-of-00002.safetensors")));

        try (var checkpoint = TorchCheckpoint.open(BIN)) {
            var names = checkpoint.tensors().stream().map(TensorEntry::name).toList();
            assertThat(names).as("tensor names").containsExactlyInAnyOrderElementsOf(expected.keySet());
            for (var tensor : checkpoint.tensors()) {
                var oracle = expected.get(tensor.name());
                assertThat(tensor.type().name()).as("dtype of %s", tensor.name()).isEqualTo(oracle.dtype());
                assertThat(tensor.shape()).as("shape of %s", tensor.name()).containsExactly(oracle.shape());
                assertThat(tensor.file()).isEqualTo(BIN);
                long mismatch = tensor.data().mismatch(MemorySegment.ofArray(oracle.data()));
                assertThat(mismatch).as("first differing byte of %s (-1 = equal)", tensor.name()).isEqualTo(-1);
            }
        }
    }

    @Test
    void namesAndTotalSizeAgreeWithTheShardIndex() throws IOException {
        var index = new ObjectMapper().readTree(DIR.resolve("model.safetensors.index.json").toFile());
        var indexed = new LinkedHashSet<String>();
        index.get("weight_map").fieldNames().forEachRemaining(indexed::add);
        try (var checkpoint = TorchCheckpoint.open(BIN)) {
            assertThat(checkpoint.tensors()).extracting(TensorEntry::name).containsExactlyInAnyOrderElementsOf(indexed);
            long total = checkpoint.tensors().stream().mapToLong(t -> t.data().byteSize()).sum();
            assertThat(total).as("sum of tensor byte sizes vs metadata.total_size")
                    .isEqualTo(index.get("metadata").get("total_size").asLong());
            for (var tensor : checkpoint.tensors()) {
                assertThat(tensor.data().byteSize()).as("byte size of %s", tensor.name())
                        .isEqualTo(TensorType.F16.byteSize(tensor.elementCount()));
            }
        }
    }

    @Test
    void tensorDataIsAReadOnlySliceOfOneFileMappingInPickleOrder() {
        try (var checkpoint = TorchCheckpoint.open(BIN)) {
            var tensors = checkpoint.tensors();
            assertThat(tensors.getFirst().name()).isEqualTo("transformer.embedding.word_embeddings.weight");
            assertThat(tensors.getLast().name()).isEqualTo("transformer.output_layer.weight");
            for (var tensor : tensors) {
                assertThat(tensor.data().isMapped()).as("%s is mapped", tensor.name()).isTrue();
                assertThat(tensor.data().isReadOnly()).as("%s is read-only", tensor.name()).isTrue();
            }
            assertThat(checkpoint.tensor("transformer.encoder.final_layernorm.weight")).get()
                    .extracting(TensorEntry::shapeString).isEqualTo("[64]");
            assertThat(checkpoint.tensor("no.such.tensor")).isEmpty();
        }
    }

    @Test
    void closeUnmapsTheFileSoDataCanNoLongerBeRead() {
        var checkpoint = TorchCheckpoint.open(BIN);
        var data = checkpoint.tensors().getFirst().data();
        data.get(ValueLayout.JAVA_BYTE, 0);
        checkpoint.close();
        assertThatThrownBy(() -> data.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        checkpoint.close(); // idempotent
    }

    @Test
    void zipDirectoryAgreesWithTheJdkZipReaderOnNamesAndContents() throws IOException {
        var expectedNames = new ArrayList<String>();
        var expectedBytes = new HashMap<String, byte[]>();
        try (var zip = new ZipFile(BIN.toFile())) {
            for (var entry : zip.stream().toList()) {
                expectedNames.add(entry.getName());
                try (var in = zip.getInputStream(entry)) {
                    expectedBytes.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        try (var arena = Arena.ofConfined(); var channel = FileChannel.open(BIN, StandardOpenOption.READ)) {
            var mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            List<ZipDirectory.Entry> entries = ZipDirectory.read(mapping, BIN).entries();
            assertThat(entries).extracting(ZipDirectory.Entry::name).containsExactlyElementsOf(expectedNames);
            for (var entry : entries) {
                var bytes = mapping.asSlice(entry.dataOffset(), entry.size());
                assertThat(bytes.mismatch(MemorySegment.ofArray(expectedBytes.get(entry.name()))))
                        .as("first differing byte of entry %s", entry.name()).isEqualTo(-1);
            }
        }
    }
}
