package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;

/** Picks the kernels of a block-quantized type for the products of {@link WeightMatrix}. */
final class QuantProducts {

    /** Rows per chunk of the batched int8 path: the chunk's weights stay in L2 while every token group passes over them. */
    private static final int BATCH_ROWS = 32;

    private QuantProducts() {
    }

    /** Row-range body of {@code out[outBase + r] = W[r] . x~_t} for token {@code t} of the quantized activations. */
    static Parallel.RangeBody matvec(TensorType type, MemorySegment w, int cols, Q8Activations a, int t, float[] out, int outBase) {
        return switch (type) {
            case Q8_0 -> (r0, r1) -> QuantDotKernels.q8_0Rows(w, cols, a, t, out, outBase, r0, r1);
            case Q4_0 -> (r0, r1) -> QuantDotKernels.q4_0Rows(w, cols, a, t, out, outBase, r0, r1);
            case Q4_1 -> (r0, r1) -> QuantDotKernels.q4_1Rows(w, cols, a, t, out, outBase, r0, r1);
            case Q5_0 -> (r0, r1) -> QuantDotKernels.q5_0Rows(w, cols, a, t, out, outBase, r0, r1);
            case Q5_1 -> (r0, r1) -> QuantDotKernels.q5_1Rows(w, cols, a, t, out, outBase, r0, r1);
            case Q4_K -> (r0, r1) -> KQuantDotKernels.q4kRows(w, cols, a, t, out, outBase, r0, r1);
            case Q5_K -> (r0, r1) -> KQuantDotKernels.q5kRows(w, cols, a, t, out, outBase, r0, r1);
            case Q6_K -> (r0, r1) -> KQuantDotKernels.q6kRows(w, cols, a, t, out, outBase, r0, r1);
            default -> throw new IllegalArgumentException(type + " is not a block type");
        };
    }

    /** True if {@link #batch} has group kernels for this type. */
    static boolean hasBatchKernels(TensorType type) {
        return type == TensorType.Q4_0 || type == TensorType.Q8_0 || type == TensorType.Q4_K;
    }

    /**
     * Row-range body of the batched int8 product for all {@code a.tokens} tokens ({@code out[t*rows + r]}): per chunk
     * of rows, groups of 4 and 2 tokens and a last single token each pass over the chunk, which is read from memory
     * once and from cache afterwards. Types without group kernels run one mat-vec per token over the chunk. Each
     * type has its own loop method: one shared loop with a switch inside carried the first type's profile into
     * the next type's runs (a benchmark of several types in one JVM saw Q8_0 run 1.7x slower after Q4_0).
     */
    static Parallel.RangeBody batch(TensorType type, MemorySegment w, int rows, int cols, Q8Activations a, float[] out) {
        return switch (type) {
            case Q4_0 -> (r0, r1) -> batchQ4_0(w, rows, cols, a, out, r0, r1);
            case Q8_0 -> (r0, r1) -> batchQ8_0(w, rows, cols, a, out, r0, r1);
            case Q4_K -> (r0, r1) -> batchQ4K(w, rows, cols, a, out, r0, r1);
            default -> (r0, r1) -> {
                for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
                    int c1 = Math.min(r1, c0 + BATCH_ROWS);
                    for (int t = 0; t < a.tokens; t++) {
                        matvec(type, w, cols, a, t, out, t * rows).run(c0, c1);
                    }
                }
            };
        };
    }

    private static void batchQ4_0(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
        int n = a.tokens;
        for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
            int c1 = Math.min(r1, c0 + BATCH_ROWS);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                QuantBatchKernels.q4_0Tokens4(w, cols, a, t, out, rows, c0, c1);
            }
            if (t + 2 <= n) {
                QuantBatchKernels.q4_0Tokens2(w, cols, a, t, out, rows, c0, c1);
                t += 2;
            }
            if (t < n) {
                QuantDotKernels.q4_0Rows(w, cols, a, t, out, t * rows, c0, c1);
            }
        }
    }

    private static void batchQ8_0(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
        int n = a.tokens;
        for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
            int c1 = Math.min(r1, c0 + BATCH_ROWS);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                QuantBatchKernels.q8_0Tokens4(w, cols, a, t, out, rows, c0, c1);
            }
            if (t + 2 <= n) {
                QuantBatchKernels.q8_0Tokens2(w, cols, a, t, out, rows, c0, c1);
                t += 2;
            }
            if (t < n) {
                QuantDotKernels.q8_0Rows(w, cols, a, t, out, t * rows, c0, c1);
            }
        }
    }

    private static void batchQ4K(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
        int n = a.tokens;
        for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
            int c1 = Math.min(r1, c0 + BATCH_ROWS);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                QuantBatchKernels.q4kTokens4(w, cols, a, t, out, rows, c0, c1);
            }
            if (t + 2 <= n) {
                QuantBatchKernels.q4kTokens2(w, cols, a, t, out, rows, c0, c1);
                t += 2;
            }
            if (t < n) {
                KQuantDotKernels.q4kRows(w, cols, a, t, out, t * rows, c0, c1);
            }
        }
    }
}
