package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The batched int8 products of the block types (the {@link TensorType.Int8Batch} column of the type table): per chunk
 * of rows, groups of 4 and 2 tokens and a last single token each pass over the chunk, which is read from memory once
 * and from cache afterwards. Types without group kernels run one mat-vec per token over the chunk. Each type has its
 * own loop method: one shared loop with a switch inside carried the first type's profile into the next type's runs
 * (a benchmark of several types in one JVM saw Q8_0 run 1.7x slower after Q4_0).
 */
final class QuantProducts {

    /** Rows per chunk of the batched int8 path: the chunk's weights stay in L2 while every token group passes over them. */
    private static final int BATCH_ROWS = 32;

    private QuantProducts() {
    }

    /** The batched product of a type without group kernels: its mat-vec kernel once per token over each chunk. */
    static TensorType.Int8Batch perToken(TensorType.Int8Rows matvec) {
        return (w, rows, cols, a, out, r0, r1) -> {
            for (int c0 = r0; c0 < r1; c0 += BATCH_ROWS) {
                int c1 = Math.min(r1, c0 + BATCH_ROWS);
                for (int t = 0; t < a.tokens; t++) {
                    matvec.rows(w, cols, a, t, out, t * rows, c0, c1);
                }
            }
        };
    }

    static void batchQ4_0(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
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

    static void batchQ8_0(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
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

    static void batchQ4K(MemorySegment w, int rows, int cols, Q8Activations a, float[] out, int r0, int r1) {
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
