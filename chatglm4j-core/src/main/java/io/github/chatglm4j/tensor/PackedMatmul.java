package io.github.chatglm4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Batched product for a range of output rows, all tokens: {@code out[t*rows + r] = W[r] . x[t]}.
 *
 * <p>A block of {@link #ROW_BLOCK} rows x {@link #COL_BLOCK} columns is decoded once into a float[] (it then sits
 * in L2), and every tile of {@link TileKernel#TOKENS} tokens runs over it, so each weight is read from memory
 * once per call and decoded once per call, not once per token. Columns are blocked so that the packed block and
 * the activation tile stay cache-resident for wide matrices; partial sums of later column blocks are added to
 * {@code out}. Missing tokens of the last tile and the odd last row are computed as duplicates and not stored,
 * which keeps the kernel free of tail cases; the column tail beyond the vector length is done in scalar code.
 */
final class PackedMatmul {

    // Tuning knobs read once (static final, so C2 folds them); the defaults were measured with KernelBench.
    static final int ROW_BLOCK = Integer.getInteger("chatglm4j.matmul.rowBlock", 8);
    static final int COL_BLOCK = Math.max(256, Integer.getInteger("chatglm4j.matmul.colBlock", 4096) / 256 * 256);

    private PackedMatmul() {
    }

    static void rows(RowDecoder w, int rows, int cols, float[] x, int n, float[] out, int r0, int r1) {
        int rowBlock = Math.min(ROW_BLOCK, r1 - r0);
        int colBlock = Math.min(COL_BLOCK, cols);
        float[] packed = new float[rowBlock * colBlock];
        float[] acc = new float[TileKernel.ROWS * TileKernel.TOKENS];
        for (int k0 = 0; k0 < cols; k0 += colBlock) {
            int kw = Math.min(colBlock, cols - k0);
            int kv = kw - kw % Decode.LANES;
            boolean first = k0 == 0;
            for (int b0 = r0; b0 < r1; b0 += rowBlock) {
                int bn = Math.min(rowBlock, r1 - b0);
                for (int i = 0; i < bn; i++) {
                    w.decode(b0 + i, k0, packed, i * colBlock, kw);
                }
                for (int t = 0; t < n; t += TileKernel.TOKENS) {
                    int nt = Math.min(TileKernel.TOKENS, n - t);
                    int x0 = t * cols + k0;
                    int x1 = Math.min(t + 1, n - 1) * cols + k0;
                    int x2 = Math.min(t + 2, n - 1) * cols + k0;
                    int x3 = Math.min(t + 3, n - 1) * cols + k0;
                    for (int i = 0; i < bn; i += TileKernel.ROWS) {
                        int nr = Math.min(TileKernel.ROWS, bn - i);
                        int p0 = i * colBlock;
                        int p1 = (i + nr - 1) * colBlock;
                        TileKernel.tile(packed, p0, p1, x, x0, x1, x2, x3, kv, acc);
                        for (int j = 0; j < nr; j++) {
                            int p = j == 0 ? p0 : p1;
                            for (int q = 0; q < nt; q++) {
                                float sum = acc[TileKernel.TOKENS * j + q];
                                int xq = (t + q) * cols + k0;
                                for (int c = kv; c < kw; c++) {
                                    sum += packed[p + c] * x[xq + c];
                                }
                                int o = (t + q) * rows + b0 + i + j;
                                out[o] = first ? sum : out[o] + sum;
                            }
                        }
                    }
                }
            }
        }
    }
}
