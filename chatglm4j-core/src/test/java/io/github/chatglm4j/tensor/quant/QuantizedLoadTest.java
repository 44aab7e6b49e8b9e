package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMWeights;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Load-time quantization ({@link LoadOptions#withQuant}) on the tiny fixture model: which matrices get which type,
 * their bytes against quantizing the stored rows directly, their values against the stored values, native memory
 * freed on close, progress, errors, and the numerical quality of the quantized model (computed through float32
 * from its dequantized weights until quantized kernels exist).
 */
class QuantizedLoadTest {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final String EMBEDDING = "transformer.embedding.word_embeddings.weight";
    private static final String OUTPUT = "transformer.output_layer.weight";

    @AutoClose
    static final Parallel POOL = Parallel.create(2);

    private static LoadOptions options(TensorType quant) {
        return LoadOptions.defaults().withThreads(2).withContextSize(64).withQuant(quant);
    }

    /** The stored F16 values of one row, decoded independently of the engine. */
    private static float[] storedRow(TensorEntry t, int r) {
        int cols = (int) t.shape()[1];
        float[] row = new float[cols];
        for (int c = 0; c < cols; c++) {
            row[c] = Float.float16ToFloat(t.data().get(SHORT_LE, 2L * ((long) r * cols + c)));
        }
        return row;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void layerMatricesTakeTheTypeTheOutputQ8_0AndTheEmbeddingStaysStored(TensorType quant) {
        try (ChatGLM glm = ChatGLM.load(Fixtures.tinyModel(), options(quant));
             HuggingFaceCheckpoint stored = HuggingFaceCheckpoint.open(Fixtures.tinyModel(), LoadProgress.NONE)) {
            Map<String, WeightMatrix> matrices = glm.model().weights().matrices();
            assertThat(matrices).hasSize(2 + 4 * glm.config().numLayers());
            for (var e : matrices.entrySet()) {
                String name = e.getKey();
                WeightMatrix m = e.getValue();
                TensorEntry source = stored.tensor(name).orElseThrow();
                TensorType want = name.equals(EMBEDDING) ? source.type() : name.equals(OUTPUT) ? TensorType.Q8_0 : quant;
                assertThat(m.type()).as("type of %s", name).isEqualTo(want);
                assertThat(new long[]{m.rows(), m.cols()}).as("shape of %s", name).containsExactly(source.shape());
                assertThat(m.data().byteSize()).as("bytes of %s", name).isEqualTo(want.byteSize((long) m.rows() * m.cols()));
                assertThat(m.data().isMapped()).as("%s is %s", name, want.isQuantized() ? "in native memory" : "still the file mapping")
                        .isEqualTo(!want.isQuantized());
                if (want.isQuantized()) {
                    checkRows(name, m, source);
                }
            }
        }
    }

    /** Every row equals the stored row quantized directly, and decodes to within the type's bound of it. */
    private static void checkRows(String name, WeightMatrix m, TensorEntry source) {
        TensorType type = m.type();
        long rowBytes = type.rowBytes(m.cols());
        byte[] direct = new byte[(int) rowBytes];
        float[] back = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            float[] x = storedRow(source, r);
            Quantization.quantizeRow(type, x, 0, x.length, MemorySegment.ofArray(direct), 0);
            byte[] bound = m.data().asSlice(r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
            if (!java.util.Arrays.equals(bound, direct)) {
                fail("%s row %d: the loaded %s bytes differ from quantizing the stored row", name, r, type);
            }
            Quantization.dequantizeRow(type, m.data(), r * rowBytes, back, 0, m.cols());
            for (int b = 0; b < m.cols() / type.blockSize(); b++) {
                double[] limit = ErrorBounds.of(type, x, b * type.blockSize());
                for (int i = 0; i < type.blockSize(); i++) {
                    int c = b * type.blockSize() + i;
                    if (!(Math.abs(x[c] - back[c]) <= limit[i])) {
                        fail("%s [%d, %d]: stored %s, %s decodes %s, beyond the bound %s", name, r, c, x[c], type, back[c], limit[i]);
                    }
                }
            }
        }
    }

    @Test
    void closingTheModelFreesTheQuantizedMatrices() {
        ChatGLM glm = ChatGLM.load(Fixtures.tinyModel(), options(TensorType.Q4_0));
        List<MemorySegment> owned = glm.model().weights().matrices().values().stream()
                .map(WeightMatrix::data).filter(s -> !s.isMapped()).toList();
        assertThat(owned).as("quantized matrices: 4 per layer and the output").hasSize(4 * glm.config().numLayers() + 1);
        assertThat(owned).allSatisfy(s -> assertThat(s.scope().isAlive()).as("alive while the model is open").isTrue());
        glm.close();
        assertThat(owned).allSatisfy(s -> assertThat(s.scope().isAlive()).as("freed by close()").isFalse());
    }

    /** One progress callback. */
    record Event(String stage, long done, long total) {
    }

    @Test
    void quantizingReportsProgressOverTheSourceBytesThenPreloadsOnlyTheEmbedding() {
        List<Event> events = new ArrayList<>();
        long sum = 0;
        long embeddingBytes;
        try (HuggingFaceCheckpoint stored = HuggingFaceCheckpoint.open(Fixtures.tinyModel(), LoadProgress.NONE)) {
            for (TensorEntry t : stored.tensors()) {
                if (t.shape().length == 2 && !t.name().equals(EMBEDDING)) {
                    sum += t.data().byteSize();
                }
            }
            embeddingBytes = stored.tensor(EMBEDDING).orElseThrow().data().byteSize();
        }
        long quantizedSourceBytes = sum;
        LoadOptions o = options(TensorType.Q8_0).withPreload(true).withProgress((s, d, t) -> events.add(new Event(s, d, t)));
        try (ChatGLM glm = ChatGLM.load(Fixtures.tinyModel(), o)) {
            assertThat(glm.model().weights().matrixType()).isEqualTo(TensorType.Q8_0);
        }
        List<Event> quantizing = events.stream().filter(e -> e.stage().equals("quantizing")).toList();
        assertThat(quantizing).as("quantizing events").hasSizeGreaterThan(2);
        assertThat(quantizing).as("total = bytes of the stored layer and output matrices")
                .allSatisfy(e -> assertThat(e.total()).isEqualTo(quantizedSourceBytes));
        assertThat(quantizing.getFirst().done()).isZero();
        assertThat(quantizing.getLast().done()).isEqualTo(quantizedSourceBytes);
        for (int i = 1; i < quantizing.size(); i++) {
            assertThat(quantizing.get(i).done()).as("progress never goes back").isGreaterThanOrEqualTo(quantizing.get(i - 1).done());
        }
        List<Event> reading = events.stream().filter(e -> e.stage().equals("reading")).toList();
        assertThat(reading).as("preload after quantizing").isNotEmpty()
                .allSatisfy(e -> assertThat(e.total()).as("only the embedding is still read from the files").isEqualTo(embeddingBytes));
        int lastQuantizing = events.lastIndexOf(quantizing.getLast());
        assertThat(events.indexOf(reading.getFirst())).as("reading comes after quantizing").isGreaterThan(lastQuantizing);
    }

    @Test
    void onlyTheLegacyBlockTypesCanBeChosen() {
        for (TensorType t : TensorType.values()) {
            if (LoadOptions.QUANT_TYPES.contains(t)) {
                assertThat(LoadOptions.defaults().withQuant(t).quant()).isEqualTo(t);
            } else {
                assertThatThrownBy(() -> LoadOptions.defaults().withQuant(t)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("cannot quantize a model to " + t + " while loading; supported: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1");
            }
        }
        assertThat(LoadOptions.QUANT_TYPES).containsExactlyInAnyOrder(TensorType.Q8_0, TensorType.Q4_0, TensorType.Q4_1,
                TensorType.Q5_0, TensorType.Q5_1);
        assertThat(LoadOptions.defaults().quant()).as("default keeps the stored types").isNull();
        assertThat(new LoadOptions(2, 0, true, null).quant()).as("the four-argument constructor").isNull();
    }

    @Test
    void alreadyQuantizedLayerWeightsAreAnErrorButAQuantizedOutputIsKept() {
        Path dir = Fixtures.tinyModel();
        ChatGLMConfig config = ChatGLMConfig.read(dir.resolve("config.json"));
        String dense = "transformer.encoder.layers.1.self_attention.dense.weight";
        try (HuggingFaceCheckpoint stored = HuggingFaceCheckpoint.open(dir, LoadProgress.NONE);
             Arena arena = Arena.ofShared();
             MatrixQuantizer quantizer = new MatrixQuantizer(POOL, null)) {
            TensorSource denseQ8 = new SubstitutedSource(stored, Map.of(dense, requantized(stored.tensor(dense).orElseThrow(), TensorType.Q8_0, arena)));
            assertThatThrownBy(() -> ChatGLMWeights.bind(config, denseQ8, TensorType.Q4_0, quantizer))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir + ": cannot quantize to Q4_0: the weights are already quantized ('" + dense
                            + "' is Q8_0); load them without a quantization type");

            TensorEntry outputQ4 = requantized(stored.tensor(OUTPUT).orElseThrow(), TensorType.Q4_1, arena);
            ChatGLMWeights w = ChatGLMWeights.bind(config, new SubstitutedSource(stored, Map.of(OUTPUT, outputQ4)), TensorType.Q5_0, quantizer);
            assertThat(w.matrices().get(OUTPUT).type()).isEqualTo(TensorType.Q4_1);
            assertThat(w.matrices().get(OUTPUT).data()).as("the stored output data, not a copy").isSameAs(outputQ4.data());
            assertThat(w.matrices().get(dense).type()).isEqualTo(TensorType.Q5_0);
        }
    }

    private static TensorEntry requantized(TensorEntry t, TensorType type, Arena arena) {
        int rows = (int) t.shape()[0];
        int cols = (int) t.shape()[1];
        MemorySegment seg = arena.allocate(type.byteSize((long) rows * cols), 64);
        for (int r = 0; r < rows; r++) {
            Quantization.quantizeRow(type, storedRow(t, r), 0, cols, seg, r * type.rowBytes(cols));
        }
        return new TensorEntry(t.name(), type, t.shape(), seg, t.file());
    }

    @Test
    void columnsThatAreNotWholeBlocksAreAnError() {
        // chatglm.cpp's test shapes: ffn 48, so dense_4h_to_h has 48 columns
        ChatGLMConfig config = new ChatGLMConfig(1, 32, 48, 8, 4, 2, 5, 64, 1e-5f, 1f);
        Path file = Path.of("synthetic.safetensors");
        Random rnd = new Random(5);
        try (Arena arena = Arena.ofShared(); MatrixQuantizer quantizer = new MatrixQuantizer(null, null)) {
            List<TensorEntry> tensors = new ArrayList<>();
            String p = "transformer.encoder.layers.0.";
            tensors.add(random(arena, rnd, file, EMBEDDING, 5, 32));
            tensors.add(random(arena, rnd, file, p + "input_layernorm.weight", 32));
            tensors.add(random(arena, rnd, file, p + "self_attention.query_key_value.weight", 48, 32));
            tensors.add(random(arena, rnd, file, p + "self_attention.query_key_value.bias", 48));
            tensors.add(random(arena, rnd, file, p + "self_attention.dense.weight", 32, 32));
            tensors.add(random(arena, rnd, file, p + "post_attention_layernorm.weight", 32));
            tensors.add(random(arena, rnd, file, p + "mlp.dense_h_to_4h.weight", 96, 32));
            tensors.add(random(arena, rnd, file, p + "mlp.dense_4h_to_h.weight", 32, 48));
            tensors.add(random(arena, rnd, file, "transformer.encoder.final_layernorm.weight", 32));
            tensors.add(random(arena, rnd, file, OUTPUT, 5, 32));
            TensorSource source = new SubstitutedSource(new ListSource(tensors, file), Map.of());
            assertThatThrownBy(() -> ChatGLMWeights.bind(config, source, TensorType.Q8_0, quantizer))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file + ": cannot quantize '" + p + "mlp.dense_4h_to_h.weight' [32, 48] to Q8_0: "
                            + "48 columns is not a multiple of its block size 32");
            assertThat(quantizer.allocatedBytes()).as("nothing allocated when a check fails").isZero();
        }
    }

    private static TensorEntry random(Arena arena, Random rnd, Path file, String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        MemorySegment seg = arena.allocate(4 * n, 64);
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, (float) rnd.nextGaussian());
        }
        return new TensorEntry(name, TensorType.F32, shape, seg, file);
    }

    private record ListSource(List<TensorEntry> tensors, Path location) implements TensorSource {
        @Override
        public java.util.Optional<TensorEntry> tensor(String name) {
            return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
        }

        @Override
        public String description() {
            return location.toString();
        }

        @Override
        public void close() {
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void theQuantizedWeightsStillReproduceTheReferenceModel(TensorType quant) {
        try (ChatGLM glm = ChatGLM.load(Fixtures.tinyModel(), options(quant));
             HuggingFaceCheckpoint stored = HuggingFaceCheckpoint.open(Fixtures.tinyModel(), LoadProgress.NONE);
             Arena arena = Arena.ofShared()) {
            QuantizedModelCheck.checkAgainstReference(QuantizedModelCheck.dequantizedTwin(glm, stored, arena, POOL),
                    quant + " weights (through float32)", QuantizedModelCheck.Bounds.of(quant));
        }
    }
}
