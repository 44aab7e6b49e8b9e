package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.Vectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** The codecs against ggml's reference quantizers (every byte) and llama.cpp-made blocks (every value, bit for bit). */
class ReferenceOracleTest {

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void quantizerReproducesTheReferenceBytes(TensorType type) {
        BlockFixture f = BlockFixture.get();
        float[] input = f.floats(type + ".input");
        byte[] expected = f.bytes(type + ".bytes");
        int rows = f.shape(type + ".input")[0];
        int cols = f.shape(type + ".input")[1];
        assertThat(expected).hasSize((int) type.byteSize((long) rows * cols));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(expected.length);
            long rowBytes = type.rowBytes(cols);
            for (int r = 0; r < rows; r++) {
                Quantization.quantizeRow(type, input, r * cols, cols, out, r * rowBytes);
            }
            byte[] got = out.toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < expected.length; i++) {
                if (got[i] != expected[i]) {
                    int block = i / type.bytesPerBlock();
                    fail("%s byte %d (block %d, byte %d in the block) is 0x%02x, the reference wrote 0x%02x; block inputs %s",
                            type, i, block, i % type.bytesPerBlock(), got[i] & 0xFF, expected[i] & 0xFF,
                            java.util.Arrays.toString(java.util.Arrays.copyOfRange(input, block * 32, block * 32 + 32)));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizerReproducesTheReferenceValues(TensorType type) {
        BlockFixture f = BlockFixture.get();
        byte[] blocks = f.bytes(type + ".blocks");
        float[] expected = f.floats(type + ".dequant");
        assertThat((long) blocks.length).as("fixture block bytes").isEqualTo(type.byteSize(expected.length));
        float[] got = new float[expected.length];
        Quantization.dequantizeRow(type, MemorySegment.ofArray(blocks), 0, got, 0, got.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(expected[i])) {
                fail("%s value %d (block %d, index %d in the block) decoded as %s, the reference gives %s",
                        type, i, i / type.blockSize(), i % type.blockSize(), got[i], expected[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void oneDimensionalTensorsOfBlockTypesAreDequantized(TensorType type) {
        BlockFixture f = BlockFixture.get();
        byte[] blocks = f.bytes(type + ".blocks");
        float[] expected = f.floats(type + ".dequant");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(blocks.length);
            seg.copyFrom(MemorySegment.ofArray(blocks));
            float[] got = Vectors.toFloatArray(seg, type, expected.length);
            assertThat(got).as("%s vector read", type).usingElementComparator(Float::compare).containsExactly(expected);
        }
    }
}
