package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.checkpoint.HuggingFaceCheckpoint;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tiny fixture model loaded with {@code --quant q8_0} / {@code q4_0} and run through the quantized kernels:
 * they must reproduce the same model computed in float32 from the dequantized weights (logits cosine >= 0.9999 at
 * every prompt position), and the model must meet the reference bounds of {@link QuantizedModelCheck.Bounds}.
 */
class QuantizedEndToEndTest {

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void quantizedModelAgreesWithItsFloatTwinAndTheReference(TensorType quant) {
        try (ChatGLM glm = ChatGLM.load(Fixtures.tinyModel(), LoadOptions.defaults().withThreads(2).withContextSize(64).withQuant(quant));
             HuggingFaceCheckpoint stored = HuggingFaceCheckpoint.open(Fixtures.tinyModel(), LoadProgress.NONE);
             Parallel pool = Parallel.create(2);
             Arena arena = Arena.ofShared()) {
            var twin = QuantizedModelCheck.dequantizedTwin(glm, stored, arena, pool);
            assertThat(QuantizedModelCheck.minCosine(glm.model(), twin))
                    .as("%s kernels vs float32 on the dequantized weights: smallest logits cosine", quant)
                    .isGreaterThanOrEqualTo(0.9999);
            QuantizedModelCheck.checkAgainstReference(glm.model(), quant + " kernels", QuantizedModelCheck.Bounds.of(quant));
        }
    }
}
