package io.github.chatglm4j.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.format.gguf.GgufFile;
import io.github.chatglm4j.format.gguf.GgufTensor;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.model.ChatGLMModel;
import io.github.chatglm4j.model.ChatGLMWeights;
import io.github.chatglm4j.model.KvCache;
import io.github.chatglm4j.model.KvType;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.quant.Quantization;
import io.github.chatglm4j.testing.Fixtures;
import io.github.chatglm4j.testing.Numbers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one-layer models that llama.cpp's {@code llama-quantize --pure} wrote in every block type
 * ({@code quant/llama-quantize}) bind and run: a prompt through the int8 kernels of the file's type gives the logits
 * of the same model computed in float32 from the dequantized weights (so only the int8 activations differ: cosine of the logits 0.99987 or more, 0.9995 required), fed in one
 * batch as well as token by token. Their made-up 512-token vocabulary is not ChatGLM3's, so the model is built from
 * the file's config and tensors without a tokenizer.
 */
class LlamaQuantizeFilesTest {
    private static final int[] PROMPT = {3, 77, 511, 0, 250, 42, 9, 300};

    static Stream<TensorType> blockTypes() {
        return Arrays.stream(TensorType.values()).filter(TensorType::isQuantized);
    }

    /** llama-quantize names a file by its mix: the pure K-quant files of Q3_K, Q4_K and Q5_K are the _S mixes. */
    static Path file(TensorType type) {
        String mix = switch (type) {
            case Q3_K, Q4_K, Q5_K -> type + "_S";
            default -> type.name();
        };
        return Fixtures.root().resolve("quant/llama-quantize/pure-" + mix + ".gguf");
    }

    @ParameterizedTest
    @MethodSource("blockTypes")
    void llamaQuantizeFilesRunLikeTheirDequantizedWeights(TensorType type) {
        try (GgufFile f = GgufFile.open(file(type)); Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            ChatGLMConfig config = GgufCheckpoint.config(f);
            ChatGLMModel quantized = new ChatGLMModel(config, ChatGLMWeights.bind(config, source(f, TensorEntry::data)), pool);
            ChatGLMModel twin = new ChatGLMModel(config, ChatGLMWeights.bind(config, source(f, e -> dequantized(e, arena))), pool);
            assertThat(quantized.weights().matrices().values()).as("%s matrices", type)
                    .allSatisfy(m -> assertThat(m.type()).isEqualTo(type));
            float[] want = lastLogits(twin, false);
            assertThat(Numbers.cosine(want, lastLogits(quantized, false)))
                    .as("%s: prompt in one batch vs float32 on the dequantized weights", type).isGreaterThanOrEqualTo(0.9995);
            assertThat(Numbers.cosine(want, lastLogits(quantized, true)))
                    .as("%s: prompt token by token vs float32 on the dequantized weights", type).isGreaterThanOrEqualTo(0.9995);
        }
    }

    /** The file's tensors under the Hugging Face names the model binds, with 2-D data made by {@code data}. */
    private static TensorSource source(GgufFile f, Function<TensorEntry, MemorySegment> data) {
        List<TensorEntry> entries = new ArrayList<>();
        for (GgufTensor t : f.tensors()) {
            String name = ChatGLMLayout.hfName(t.name());
            TensorEntry e = new TensorEntry(name != null ? name : t.name(), t.type(), t.shape(), t.data(), f.path());
            MemorySegment d = t.ne().length == 1 ? e.data() : data.apply(e);
            entries.add(d == e.data() ? e : new TensorEntry(e.name(), TensorType.F32, e.shape(), d, f.path()));
        }
        return new TensorSource() {
            @Override
            public Optional<TensorEntry> tensor(String name) {
                return entries.stream().filter(e -> e.name().equals(name)).findFirst();
            }

            @Override
            public List<TensorEntry> tensors() {
                return entries;
            }

            @Override
            public Path location() {
                return f.path();
            }

            @Override
            public String description() {
                return f.path().toString();
            }

            @Override
            public void close() {
            }
        };
    }

    /** The tensor decoded to F32 by its codec (the scalar oracle of the kernels). */
    private static MemorySegment dequantized(TensorEntry e, Arena arena) {
        int cols = (int) e.shape()[1];
        int rows = (int) e.shape()[0];
        MemorySegment out = arena.allocate(4L * rows * cols, 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantization.dequantizeRow(e.type(), e.data(), r * e.type().rowBytes(cols), row, 0, cols);
            Quantization.quantizeRow(TensorType.F32, row, 0, cols, out, 4L * r * cols);
        }
        return out;
    }

    /** The logits after the last prompt token, the prompt fed at once or one token per forward call. */
    private static float[] lastLogits(ChatGLMModel model, boolean oneByOne) {
        KvCache cache = new KvCache(model.config(), 64, KvType.F32);
        if (!oneByOne) {
            return model.logits(model.forward(cache, PROMPT, null), PROMPT.length - 1);
        }
        float[] normed = null;
        for (int id : PROMPT) {
            normed = model.forward(cache, new int[] {id}, null);
        }
        return model.logits(normed, 0);
    }
}
