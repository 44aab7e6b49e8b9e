package io.github.chatglm4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The type table against ggml's own type traits (ids from ggml.h, geometry from ggml-common.h's block structs). */
class TensorTypeTest {

    /** name -> {ggml id, values per block, bytes per block}, as ggml defines them. */
    private static final Map<String, int[]> GGML = Map.ofEntries(
            Map.entry("F32", new int[] {0, 1, 4}),
            Map.entry("F16", new int[] {1, 1, 2}),
            Map.entry("BF16", new int[] {30, 1, 2}),
            Map.entry("Q8_0", new int[] {8, 32, 34}),
            Map.entry("Q4_0", new int[] {2, 32, 18}),
            Map.entry("Q4_1", new int[] {3, 32, 20}),
            Map.entry("Q5_0", new int[] {6, 32, 22}),
            Map.entry("Q5_1", new int[] {7, 32, 24}),
            Map.entry("Q2_K", new int[] {10, 256, 84}),
            Map.entry("Q3_K", new int[] {11, 256, 110}),
            Map.entry("Q4_K", new int[] {12, 256, 144}),
            Map.entry("Q5_K", new int[] {13, 256, 176}),
            Map.entry("Q6_K", new int[] {14, 256, 210}),
            Map.entry("IQ4_NL", new int[] {20, 32, 18}),
            Map.entry("IQ4_XS", new int[] {23, 256, 136}));

    @Test
    void everyRowHasGgmlsIdAndBlockGeometry() {
        for (TensorType t : TensorType.values()) {
            int[] ggml = GGML.get(t.name());
            assertThat(ggml).as("%s is a ggml type", t).isNotNull();
            assertThat(t.ggmlId()).as("%s ggml id", t).isEqualTo(ggml[0]);
            assertThat(t.blockSize()).as("%s block size", t).isEqualTo(ggml[1]);
            assertThat(t.bytesPerBlock()).as("%s bytes per block", t).isEqualTo(ggml[2]);
            assertThat(TensorType.fromGgmlId(ggml[0])).contains(t);
            assertThat(t.codec().name()).isEqualTo(t.name());
        }
        assertThat(TensorType.fromGgmlId(15)).as("Q8_K is not a weight type here").isEmpty();
    }

    @Test
    void everyRowHasTheKernelsOfItsKind() {
        for (TensorType t : TensorType.values()) {
            assertThat(t.decoder()).as("%s decoder", t).isNotNull();
            if (t.isQuantized()) {
                assertThat(t.int8Rows()).as("%s int8 mat-vec", t).isNotNull();
                assertThat(t.int8Batch()).as("%s batched int8 product", t).isNotNull();
                assertThat(t.floatRows()).isNull();
            } else {
                assertThat(t.floatRows()).as("%s float mat-vec", t).isNotNull();
                assertThat(t.isQuantTarget()).as("%s is no quantization target", t).isFalse();
            }
        }
    }

    @Test
    void namesParseInAnyCase() {
        assertThat(TensorType.parse("q4_k")).contains(TensorType.Q4_K);
        assertThat(TensorType.parse("Bf16")).contains(TensorType.BF16);
        assertThat(TensorType.parse("q4_k_m")).isEmpty();
        assertThat(Arrays.stream(TensorType.values()).map(TensorType::label)).contains("q8_0", "f16");
    }
}
