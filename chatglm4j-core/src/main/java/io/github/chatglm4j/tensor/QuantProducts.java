package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;

/** Picks the kernel of a block-quantized type for the products of {@link WeightMatrix}. */
final class QuantProducts {

    private QuantProducts() {
    }

    /** Row-range body of {@code out[r] = W[r] . x~_t} for token {@code t} of the quantized activations. */
    static Parallel.RangeBody matvec(TensorType type, MemorySegment w, int cols, Q8Activations a, int t, float[] out) {
        return switch (type) {
            case Q8_0 -> (r0, r1) -> QuantDotKernels.q8_0Rows(w, cols, a, t, out, r0, r1);
            case Q4_0 -> (r0, r1) -> QuantDotKernels.q4_0Rows(w, cols, a, t, out, r0, r1);
            case Q4_1 -> (r0, r1) -> QuantDotKernels.q4_1Rows(w, cols, a, t, out, r0, r1);
            case Q5_0 -> (r0, r1) -> QuantDotKernels.q5_0Rows(w, cols, a, t, out, r0, r1);
            case Q5_1 -> (r0, r1) -> QuantDotKernels.q5_1Rows(w, cols, a, t, out, r0, r1);
            case Q4_K -> (r0, r1) -> KQuantDotKernels.q4kRows(w, cols, a, t, out, r0, r1);
            case Q5_K -> (r0, r1) -> KQuantDotKernels.q5kRows(w, cols, a, t, out, r0, r1);
            case Q6_K -> (r0, r1) -> KQuantDotKernels.q6kRows(w, cols, a, t, out, r0, r1);
            default -> throw new IllegalArgumentException(type + " is not a block type");
        };
    }
}
