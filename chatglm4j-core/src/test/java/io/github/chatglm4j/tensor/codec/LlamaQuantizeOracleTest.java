package io.github.chatglm4j.tensor.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.format.safetensors.SafetensorsFile;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.testing.Fixtures;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every quantizer and decoder against files that llama.cpp itself wrote ({@code quant/llama-quantize}: a one-layer
 * F32 ChatGLM with edge-case rows, quantized by {@code llama-quantize --pure} without an importance matrix, and the
 * dequantized ffn_up of each K-quant and IQ4 file).
 */
class LlamaQuantizeOracleTest {

    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static Path dir() {
        return Fixtures.root().resolve("quant/llama-quantize");
    }

    /** Each block type with the llama.cpp file type whose --pure file holds it (K-quants are named by their _S mix). */
    static Stream<Arguments> pureFiles() {
        List<Arguments> out = new ArrayList<>();
        for (TensorType t : TensorType.values()) {
            if (t.isQuantized()) {
                String file = switch (t.name()) {
                    case "Q3_K", "Q4_K", "Q5_K" -> t.name() + "_S";
                    default -> t.name();
                };
                out.add(Arguments.of(t, "pure-" + file + ".gguf"));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("pureFiles")
    void quantizingTheF32SourceReproducesLlamaQuantizeByteForByte(TensorType type, String file) {
        try (GgufFile source = GgufFile.open(dir().resolve("src-f32.gguf")); GgufFile pure = GgufFile.open(dir().resolve(file))) {
            int matrices = 0;
            List<String> problems = new ArrayList<>();
            for (GgufTensor want : pure.tensors()) {
                GgufTensor src = source.tensor(want.name()).orElseThrow();
                assertThat(src.type()).isEqualTo(TensorType.F32);
                if (want.ne().length == 1) {
                    assertThat(want.type()).as("1-D %s stays F32", want.name()).isEqualTo(TensorType.F32);
                    continue;
                }
                assertThat(want.type()).as("type of %s in %s", want.name(), file).isEqualTo(type);
                matrices++;
                compareRows(type, src, want, problems);
            }
            assertThat(matrices).as("2-D tensors in %s", file).isEqualTo(6);
            if (!problems.isEmpty()) {
                fail(problems.size() + " blocks differ from llama-quantize's " + file + ":\n" + String.join("\n", problems.subList(0, Math.min(12, problems.size()))));
            }
        }
    }

    private static void compareRows(TensorType type, GgufTensor src, GgufTensor want, List<String> problems) {
        int cols = (int) src.ne()[0];
        int rows = (int) src.ne()[1];
        long rowBytes = type.rowBytes(cols);
        float[] row = new float[cols];
        byte[] got = new byte[(int) rowBytes];
        int bpb = type.bytesPerBlock();
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(src.data(), FLOAT_LE, 4L * cols * r, row, 0, cols);
            type.codec().quantize(row, 0, cols, MemorySegment.ofArray(got), 0);
            byte[] expected = want.data().asSlice(r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
            for (int b = 0; b < cols / type.blockSize(); b++) {
                for (int i = b * bpb; i < (b + 1) * bpb; i++) {
                    if (got[i] != expected[i]) {
                        problems.add(String.format("%s row %d block %d: first difference at byte %d of the block, 0x%02x instead of 0x%02x",
                                want.name(), r, b, i - b * bpb, got[i] & 0xFF, expected[i] & 0xFF));
                        break;
                    }
                }
            }
        }
    }

    /** The types of which the fixture holds gguf-py's dequantized ffn_up. */
    static Stream<Arguments> dequantizedFiles() {
        return pureFiles().filter(a -> ((TensorType) a.get()[0]).blockSize() == 256 || a.get()[0].toString().startsWith("IQ4"));
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("dequantizedFiles")
    void scalarAndVectorDecodersReproduceTheDequantizedValuesBitForBit(TensorType type, String file) {
        try (GgufFile pure = GgufFile.open(dir().resolve(file));
             SafetensorsFile dequant = SafetensorsFile.open(dir().resolve("dequant-ffn_up.safetensors"));
             Arena arena = Arena.ofConfined()) {
            GgufTensor t = pure.tensor("blk.0.ffn_up.weight").orElseThrow();
            TensorEntry expected = dequant.tensor("blk.0.ffn_up.weight." + type).orElseThrow();
            int cols = (int) t.ne()[0];
            int rows = (int) t.ne()[1];
            assertThat(expected.shape()).containsExactly(rows, cols);
            // a native copy, as the engine's tensors are (vector loads from the heap are slow, not wrong)
            WeightMatrix m = new WeightMatrix(arena.allocate(t.data().byteSize(), 64).copyFrom(t.data()), type, rows, cols);
            float[] scalar = new float[cols];
            float[] vector = new float[cols];
            for (int r = 0; r < rows; r++) {
                type.codec().dequantize(m.data(), r * type.rowBytes(cols), scalar, 0, cols);
                m.copyRow(r, vector, 0);
                for (int c = 0; c < cols; c++) {
                    float want = expected.data().getAtIndex(FLOAT_LE, (long) r * cols + c);
                    if (Float.floatToRawIntBits(scalar[c]) != Float.floatToRawIntBits(want)) {
                        fail("%s row %d column %d: the codec gives %s, gguf-py %s", type, r, c, scalar[c], want);
                    }
                    if (Float.floatToRawIntBits(vector[c]) != Float.floatToRawIntBits(want)) {
                        fail("%s row %d column %d: the vector decoder gives %s, gguf-py %s", type, r, c, vector[c], want);
                    }
                }
            }
        }
    }
}
