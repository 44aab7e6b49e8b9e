package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.codec.Codecs;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link MatrixQuantizer}: row-by-row, parallel, batched, checked up front, and owning its memory. */
class MatrixQuantizerTest {

    private static WeightMatrix bf16Matrix(Arena arena, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        MemorySegment seg = arena.allocate(2L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                    Codecs.toBf16((float) (rnd.nextGaussian() * 0.02)));
        }
        return new WeightMatrix(seg, TensorType.BF16, rows, cols);
    }

    @Test
    void q4_0CanBeWrittenRegroupedRowByRowWithTheSameWeights() {
        // 1408 columns: two 16-block groups and a 12-block tail in ggml's layout
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(2)) {
            WeightMatrix src = bf16Matrix(arena, 37, 1408, 5);
            try (MatrixQuantizer plain = new MatrixQuantizer(pool, null);
                 MatrixQuantizer grouped = new MatrixQuantizer(pool, null, true)) {
                WeightMatrix a = plain.quantize(List.of(new MatrixQuantizer.Job("w", src, TensorType.Q4_0))).getFirst();
                WeightMatrix b = grouped.quantize(List.of(new MatrixQuantizer.Job("w", src, TensorType.Q4_0))).getFirst();
                assertThat(a.isRegrouped()).isFalse();
                assertThat(b.isRegrouped()).isTrue();
                assertThat(b.data().byteSize()).isEqualTo(a.data().byteSize());
                assertThat(b.data().toArray(ValueLayout.JAVA_BYTE)).isNotEqualTo(a.data().toArray(ValueLayout.JAVA_BYTE));
                float[] ra = new float[1408];
                float[] rb = new float[1408];
                for (int r = 0; r < 37; r++) {
                    a.copyRow(r, ra, 0);
                    b.copyRow(r, rb, 0);
                    assertThat(rb).as("row %d", r).containsExactly(ra);
                }
                // and the regrouped copy of the plain result is the same bytes as quantizing regrouped directly
                WeightMatrix c = plain.regroup(List.of(a)).getFirst();
                assertThat(c.data().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(b.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void parallelBatchedResultEqualsQuantizingEachRowAlone() {
        // 4160 rows of 1024 BF16 = 8.1 MiB of source: more than one 8 MiB batch
        try (Arena arena = Arena.ofShared(); Parallel pool = Parallel.create(3)) {
            WeightMatrix src = bf16Matrix(arena, 4160, 1024, 11);
            List<long[]> progress = new ArrayList<>();
            try (MatrixQuantizer q = new MatrixQuantizer(pool, (d, t) -> progress.add(new long[]{d, t}))) {
                WeightMatrix out = q.quantize(List.of(new MatrixQuantizer.Job("w", src, TensorType.Q4_1))).getFirst();
                assertThat(out.type()).isEqualTo(TensorType.Q4_1);
                assertThat(q.allocatedBytes()).isEqualTo(out.data().byteSize()).isEqualTo(TensorType.Q4_1.byteSize(4160L * 1024));
                long rowBytes = TensorType.Q4_1.rowBytes(1024);
                MemorySegment row = arena.allocate(rowBytes);
                float[] x = new float[1024];
                for (int r = 0; r < 4160; r++) {
                    src.copyRow(r, x, 0);
                    Quantization.quantizeRow(TensorType.Q4_1, x, 0, 1024, row, 0);
                    assertThat(out.data().asSlice(r * rowBytes, rowBytes).mismatch(row)).as("row %d", r).isEqualTo(-1L);
                }
                assertThat(progress).as("a start event and one per batch").hasSize(3);
                assertThat(progress.getLast()).containsExactly(src.data().byteSize(), src.data().byteSize());
            }
        }
    }

    @Test
    void everyJobIsCheckedBeforeAnyWork() {
        try (Arena arena = Arena.ofShared(); MatrixQuantizer q = new MatrixQuantizer(null, null)) {
            WeightMatrix good = bf16Matrix(arena, 4, 64, 1);
            WeightMatrix narrow = bf16Matrix(arena, 4, 48, 2);
            WeightMatrix quantized = new WeightMatrix(arena.allocate(TensorType.Q8_0.byteSize(256)), TensorType.Q8_0, 4, 64);
            assertThatThrownBy(() -> q.quantize(List.of(new MatrixQuantizer.Job("a", good, TensorType.Q8_0),
                    new MatrixQuantizer.Job("b", narrow, TensorType.Q8_0))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("cannot quantize 'b' [4, 48] to Q8_0: 48 columns is not a multiple of its block size 32");
            assertThatThrownBy(() -> q.quantize(List.of(new MatrixQuantizer.Job("c", good, TensorType.Q4_K))))
                    .hasMessage("cannot quantize 'c' [4, 64] to Q4_K: 64 columns is not a multiple of its block size 256");
            assertThatThrownBy(() -> q.quantize(List.of(new MatrixQuantizer.Job("d", quantized, TensorType.Q4_0))))
                    .hasMessage("cannot quantize 'd': it is already Q8_0");
            assertThatThrownBy(() -> q.quantize(List.of(new MatrixQuantizer.Job("e", good, TensorType.F16))))
                    .hasMessage("cannot quantize 'e' to F16: not a block-quantized type");
            assertThat(q.allocatedBytes()).isZero();
        }
    }

    @Test
    void aValueThatCannotBeQuantizedNamesTheTensorAndRow() {
        try (Arena arena = Arena.ofShared(); MatrixQuantizer q = new MatrixQuantizer(null, null)) {
            MemorySegment seg = arena.allocate(4L * 3 * 32);
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * 32 + 1, Float.NaN);
            WeightMatrix m = new WeightMatrix(seg, TensorType.F32, 3, 32);
            assertThatThrownBy(() -> q.quantize(List.of(new MatrixQuantizer.Job("w", m, TensorType.Q8_0))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("cannot quantize row 2 of 'w' to Q8_0: cannot quantize the non-finite value NaN at index 1");
        }
    }

    @Test
    void closeFreesTheMatricesAndEndsTheQuantizer() {
        try (Arena arena = Arena.ofShared()) {
            MatrixQuantizer q = new MatrixQuantizer(null, null);
            WeightMatrix out = q.quantize(List.of(new MatrixQuantizer.Job("w", bf16Matrix(arena, 2, 32, 3), TensorType.Q5_1))).getFirst();
            assertThat(out.data().scope().isAlive()).isTrue();
            q.close();
            q.close(); // idempotent
            assertThat(out.data().scope().isAlive()).isFalse();
            assertThatThrownBy(() -> q.quantize(List.of())).isInstanceOf(IllegalStateException.class);
        }
    }
}
