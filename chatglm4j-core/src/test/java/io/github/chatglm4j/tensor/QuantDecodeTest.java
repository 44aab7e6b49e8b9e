package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Exact float decoding of the block-quantized types, against ggml's reference dequantizer output (the fixture). */
class QuantDecodeTest {

    private static Arena arena;
    private static MemorySegment fixture;
    private static JsonNode header;
    private static long dataStart;

    @BeforeAll
    static void load() throws IOException {
        arena = Arena.ofShared();
        Path file = Path.of(System.getProperty("chatglm.fixtures"), "quant", "ggml-blocks.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        fixture = arena.allocate(bytes.length, 64).copyFrom(MemorySegment.ofArray(bytes));
        long headerLength = fixture.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        dataStart = 8 + headerLength;
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /** The raw bytes of fixture tensor {@code name} (its dtype is checked). */
    private static MemorySegment tensor(String name, String dtype) {
        JsonNode info = header.get(name);
        assertThat(info).as("fixture tensor %s", name).isNotNull();
        assertThat(info.get("dtype").asText()).as("dtype of %s", name).isEqualTo(dtype);
        long begin = info.get("data_offsets").get(0).asLong();
        long end = info.get("data_offsets").get(1).asLong();
        return fixture.asSlice(dataStart + begin, end - begin);
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void decodesFixtureBlocksBitExactly(TensorType type) {
        MemorySegment blocks = tensor(type + ".blocks", "U8");
        MemorySegment expected = tensor(type + ".dequant", "F32");
        int count = (int) (expected.byteSize() / 4);
        assertThat(blocks.byteSize()).as("%s fixture block bytes", type).isEqualTo(type.byteSize(count));
        // the fixture slice is not block-aligned in memory; copy it to an aligned segment like a real tensor
        MemorySegment data = arena.allocate(blocks.byteSize(), 64).copyFrom(blocks);

        float[] decoded = new float[count + 2];
        Arrays.fill(decoded, Float.NaN);
        Decode.row(type, data, 0, decoded, 1, count);

        assertThat(decoded[0]).as("wrote before the destination offset").isNaN();
        assertThat(decoded[count + 1]).as("wrote past the decoded values").isNaN();
        for (int i = 0; i < count; i++) {
            float want = expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
            if (Float.floatToRawIntBits(decoded[i + 1]) != Float.floatToRawIntBits(want)) {
                fail(String.format("%s element %d (block %d): ggml gives %s, decoded %s", type, i, i / type.blockSize(), want, decoded[i + 1]));
            }
            float oracle = QuantReference.element(data, type, i);
            if (Float.floatToRawIntBits(oracle) != Float.floatToRawIntBits(want)) {
                fail(String.format("test oracle disagrees with ggml for %s element %d: %s vs %s", type, i, oracle, want));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16"}, mode = EnumSource.Mode.EXCLUDE)
    void decodesRandomBlocksLikeTheOracleFromAnyBlockBoundary(TensorType type) {
        int blocks = 23;
        int count = blocks * type.blockSize();
        MemorySegment data = QuantReference.randomBlocks(arena, type, count, new Random(type.ordinal()));
        for (int first : new int[] {0, 1, 7}) {
            int len = (blocks - first - 1) * type.blockSize();
            float[] decoded = new float[len];
            Decode.row(type, data, Decode.byteOffset(type, (long) first * type.blockSize()), decoded, 0, len);
            for (int i = 0; i < len; i++) {
                long e = (long) first * type.blockSize() + i;
                float oracle = QuantReference.element(data, type, e);
                if (Float.floatToRawIntBits(decoded[i]) != Float.floatToRawIntBits(oracle)) {
                    fail(String.format("%s element %d: oracle %s, decoded %s", type, e, oracle, decoded[i]));
                }
            }
        }
    }

    @Test
    void rejectsPartialBlocksAndMisalignedOffsets() {
        MemorySegment data = arena.allocate(4 * 34);
        float[] dst = new float[128];
        assertThatThrownBy(() -> Decode.row(TensorType.Q8_0, data, 0, dst, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("40").hasMessageContaining("block size 32");
        assertThatThrownBy(() -> Decode.row(TensorType.Q8_0, data, 17, dst, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("byte 17").hasMessageContaining("block boundary");
        assertThatThrownBy(() -> Decode.byteOffset(TensorType.Q4_K, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("element 100").hasMessageContaining("block size 256");
        assertThat(Decode.byteOffset(TensorType.Q4_K, 512)).isEqualTo(288);
        assertThat(Decode.byteOffset(TensorType.F16, 5)).isEqualTo(10);
    }

    @Test
    void weightMatrixRejectsRowsThatSplitBlocks() {
        assertThatThrownBy(() -> new WeightMatrix(arena.allocate(34 * 3), TensorType.Q8_0, 2, 48))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48").hasMessageContaining("block size 32");
    }
}
