package io.github.chatglm4j.tensor;


import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batched product for many tokens (prompt prefill): {@code out[t*rows + r] = W[r] . x[t]}, as a blocked GEMM
 * whose register tile is {@link #MR} = 4 weight rows by {@link #NR} = 16 tokens.
 *
 * <p>Vector lanes run over tokens: the activations are transposed once per call into tiles of 16 tokens stored
 * k-major ({@code xt[(tile*cols + k)*16 + j] = x[16*tile + j][k]}, zero-padded past the last token), so one
 * column k of a tile is two vectors. The micro-kernel then does, per k, 2 vector loads, 4 broadcasts of weights
 * and 8 FMAs into 8 accumulators (4 x 16 outputs). Why 4 x 16 and not the classic 6 x 16: C2 issues all
 * broadcasts of an iteration before the FMAs, so it needs accumulators + broadcasts + activation vectors
 * registers at once; 6 x 16 needs 12 + 6 + 2 &gt; 16 and spills an accumulator through the stack in every
 * iteration (store-to-load forwarding then sits in an FMA chain), and measured ~40 GFLOP/s from L1 on one core,
 * while 4 x 16 (8 + 4 + 2) compiles without spills and measured ~93 (3 x 24: 88). Weights are decoded exactly
 * into a float panel of {@link #MC} rows x {@link #KC} columns, once per call: each weight is read from memory
 * once and decoded once, whatever n is. The panel is row-major with a row stride that is a compile-time constant,
 * so the 4 broadcasts of one k share one index register and differ by constant displacements (row offsets passed
 * as variables cost C2 an extra address computation per broadcast), and the decoder writes straight into it.
 *
 * <p>Loop order per thread (rows r0..r1): row panel (MC rows) &gt; column panel (KC, decoded once) &gt; column
 * sub-panel (KC_INNER) &gt; token tile (its 16 x KC_INNER activations, 16 KiB, stay in L1) &gt; group of 4 rows (the
 * decoded panel, 192 KiB, stays in L2). Partial sums over column panels live in a per-thread accumulator array in
 * tile order (vector loads/stores) and are scattered to {@code out} once per row panel. Rows past the end of a
 * panel are zero, and so are padded tokens, so the micro-kernel has no tail cases; those results are not stored.
 */
final class PanelMatmul {

    /** Float vectors at the width of {@link VectorWidth} (8 or 16 lanes). */
    static final VectorSpecies<Float> F = BlockGroups.FW;
    static final int L = F.length();
    /**
     * Rows per register tile: 4 with AVX2's 16 vector registers (8 accumulators + 4 broadcasts + 2 activation
     * vectors), 8 with AVX-512's 32 (16 + 8 + 2): 16 independent FMA chains cover the 2 FMA pipes x 4 cycles of
     * latency with room to spare, where 8 chains need every FMA to issue on time.
     */
    static final int MR = L == 16 ? 8 : 4;
    /** Tokens per tile: two vectors (16 with AVX2, 32 with AVX-512, which doubles the FMAs per broadcast). */
    static final int NR = 2 * L;
    /**
     * Columns per decoded panel: a multiple of 256 so that every block type splits at block boundaries. Decoding
     * reads MC rows in runs of KC columns; 256 (144 bytes of Q4_0) was too short for the hardware prefetchers to
     * follow 48-96 row streams and made decoding latency-bound (3x slower than with 1024).
     */
    static final int KC = Math.max(256, Integer.getInteger("chatglm4j.panel.kc", 1024) / 256 * 256);
    /** Row stride of the decoded panel (padding it off the 4 KiB multiple made no measurable difference). */
    static final int STRIDE = KC;
    /**
     * Columns per pass of the micro-kernel over a decoded panel: the 16 x 256 activations of a tile (16 KiB) stay
     * in L1 while every row group of the panel uses them (with 1024 they come from L2: ~30% slower).
     */
    static final int KC_INNER = 256;
    /** Rows per decoded panel, a multiple of MR. */
    static final int MC = Math.max(MR, Integer.getInteger("chatglm4j.panel.mc", 48) / MR * MR);

    private PanelMatmul() {
    }

    /** Number of 16-token tiles for n tokens. */
    static int tiles(int n) {
        return (n + NR - 1) / NR;
    }

    /** Transposes tiles {@code [tile0, tile1)} of x ({@code n x cols}) into {@code xt} (see the class comment). */
    static void transpose(float[] x, int n, int cols, float[] xt, int tile0, int tile1) {
        for (int tile = tile0; tile < tile1; tile++) {
            int base = tile * cols * NR;
            for (int j = 0; j < NR; j++) {
                int t = tile * NR + j;
                if (t >= n) {
                    for (int k = 0; k < cols; k++) {
                        xt[base + k * NR + j] = 0;
                    }
                } else {
                    int src = t * cols;
                    for (int k = 0; k < cols; k++) {
                        xt[base + k * NR + j] = x[src + k];
                    }
                }
            }
        }
    }

    static void rows(RowDecoder w, int rows, int cols, float[] xt, int n, float[] out, int r0, int r1) {
        int tiles = tiles(n);
        float[] panel = new float[MC * STRIDE];
        int tileSize = MR * NR;
        float[] acc = new float[MC / MR * tiles * tileSize];
        for (int m0 = r0; m0 < r1; m0 += MC) {
            int mc = Math.min(MC, r1 - m0);
            int groups = (mc + MR - 1) / MR;
            for (int k0 = 0; k0 < cols; k0 += KC) {
                int kc = Math.min(KC, cols - k0);
                for (int i = 0; i < mc; i++) {
                    w.decode(m0 + i, k0, panel, i * STRIDE, kc);
                }
                if (mc % MR != 0 && k0 == 0) {
                    // the rows that pad the last group stay zero for every column panel
                    java.util.Arrays.fill(panel, mc * STRIDE, groups * MR * STRIDE, 0f);
                }
                for (int kk = 0; kk < kc; kk += KC_INNER) {
                    int kw = Math.min(KC_INNER, kc - kk);
                    boolean add = k0 + kk > 0;
                    for (int tile = 0; tile < tiles; tile++) {
                        int xo = (tile * cols + k0 + kk) * NR;
                        for (int g = 0; g < groups; g++) {
                            if (MR == 8) {
                                micro8(panel, g * MR * STRIDE + kk, xt, xo, kw, acc, (g * tiles + tile) * tileSize, add);
                            } else {
                                micro(panel, g * MR * STRIDE + kk, xt, xo, kw, acc, (g * tiles + tile) * tileSize, add);
                            }
                        }
                    }
                }
            }
            for (int g = 0; g < groups; g++) {
                for (int tile = 0; tile < tiles; tile++) {
                    int a = (g * tiles + tile) * tileSize;
                    for (int i = 0; i < MR && g * MR + i < mc; i++) {
                        int r = m0 + g * MR + i;
                        for (int j = 0; j < NR && tile * NR + j < n; j++) {
                            out[(tile * NR + j) * rows + r] = acc[a + i * NR + j];
                        }
                    }
                }
            }
        }
    }

    /**
     * 4 x NR register tile: {@code acc[co + NR*i + j] (+)= sum_k panel[p + i*STRIDE + k] * xt[xo + NR*k + j]} for the 4
     * panel rows starting at {@code p} and the NR tokens of the tile at {@code xo}.
     */
    static void micro(float[] panel, int p, float[] xt, int xo, int kc, float[] acc, int co, boolean add) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (add) {
            c00 = FloatVector.fromArray(F, acc, co);
            c01 = FloatVector.fromArray(F, acc, co + L);
            c10 = FloatVector.fromArray(F, acc, co + 2 * L);
            c11 = FloatVector.fromArray(F, acc, co + 3 * L);
            c20 = FloatVector.fromArray(F, acc, co + 4 * L);
            c21 = FloatVector.fromArray(F, acc, co + 5 * L);
            c30 = FloatVector.fromArray(F, acc, co + 6 * L);
            c31 = FloatVector.fromArray(F, acc, co + 7 * L);
        } else {
            c00 = FloatVector.zero(F);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
        }
        for (int k = 0; k < kc; k++) {
            int x = xo + NR * k;
            int q = p + k;
            FloatVector x0 = FloatVector.fromArray(F, xt, x);
            FloatVector x1 = FloatVector.fromArray(F, xt, x + L);
            FloatVector v = FloatVector.broadcast(F, panel[q]);
            c00 = v.fma(x0, c00);
            c01 = v.fma(x1, c01);
            v = FloatVector.broadcast(F, panel[q + 1 * STRIDE]);
            c10 = v.fma(x0, c10);
            c11 = v.fma(x1, c11);
            v = FloatVector.broadcast(F, panel[q + 2 * STRIDE]);
            c20 = v.fma(x0, c20);
            c21 = v.fma(x1, c21);
            v = FloatVector.broadcast(F, panel[q + 3 * STRIDE]);
            c30 = v.fma(x0, c30);
            c31 = v.fma(x1, c31);
        }
        c00.intoArray(acc, co);
        c01.intoArray(acc, co + L);
        c10.intoArray(acc, co + 2 * L);
        c11.intoArray(acc, co + 3 * L);
        c20.intoArray(acc, co + 4 * L);
        c21.intoArray(acc, co + 5 * L);
        c30.intoArray(acc, co + 6 * L);
        c31.intoArray(acc, co + 7 * L);
    }

    /** {@link #micro} with 8 panel rows (AVX-512: 16 accumulators). */
    static void micro8(float[] panel, int p, float[] xt, int xo, int kc, float[] acc, int co, boolean add) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (add) {
            c00 = FloatVector.fromArray(F, acc, co);
            c01 = FloatVector.fromArray(F, acc, co + L);
            c10 = FloatVector.fromArray(F, acc, co + 2 * L);
            c11 = FloatVector.fromArray(F, acc, co + 3 * L);
            c20 = FloatVector.fromArray(F, acc, co + 4 * L);
            c21 = FloatVector.fromArray(F, acc, co + 5 * L);
            c30 = FloatVector.fromArray(F, acc, co + 6 * L);
            c31 = FloatVector.fromArray(F, acc, co + 7 * L);
            c40 = FloatVector.fromArray(F, acc, co + 8 * L);
            c41 = FloatVector.fromArray(F, acc, co + 9 * L);
            c50 = FloatVector.fromArray(F, acc, co + 10 * L);
            c51 = FloatVector.fromArray(F, acc, co + 11 * L);
            c60 = FloatVector.fromArray(F, acc, co + 12 * L);
            c61 = FloatVector.fromArray(F, acc, co + 13 * L);
            c70 = FloatVector.fromArray(F, acc, co + 14 * L);
            c71 = FloatVector.fromArray(F, acc, co + 15 * L);
        } else {
            c00 = FloatVector.zero(F);
            c01 = c00;
            c10 = c00;
            c11 = c00;
            c20 = c00;
            c21 = c00;
            c30 = c00;
            c31 = c00;
            c40 = c00;
            c41 = c00;
            c50 = c00;
            c51 = c00;
            c60 = c00;
            c61 = c00;
            c70 = c00;
            c71 = c00;
        }
        for (int k = 0; k < kc; k++) {
            int x = xo + NR * k;
            int q = p + k;
            FloatVector x0 = FloatVector.fromArray(F, xt, x);
            FloatVector x1 = FloatVector.fromArray(F, xt, x + L);
            FloatVector v0 = FloatVector.broadcast(F, panel[q + 0 * STRIDE]);
            FloatVector v1 = FloatVector.broadcast(F, panel[q + 1 * STRIDE]);
            FloatVector v2 = FloatVector.broadcast(F, panel[q + 2 * STRIDE]);
            FloatVector v3 = FloatVector.broadcast(F, panel[q + 3 * STRIDE]);
            FloatVector v4 = FloatVector.broadcast(F, panel[q + 4 * STRIDE]);
            FloatVector v5 = FloatVector.broadcast(F, panel[q + 5 * STRIDE]);
            FloatVector v6 = FloatVector.broadcast(F, panel[q + 6 * STRIDE]);
            FloatVector v7 = FloatVector.broadcast(F, panel[q + 7 * STRIDE]);
            c00 = v0.fma(x0, c00);
            c01 = v0.fma(x1, c01);
            c10 = v1.fma(x0, c10);
            c11 = v1.fma(x1, c11);
            c20 = v2.fma(x0, c20);
            c21 = v2.fma(x1, c21);
            c30 = v3.fma(x0, c30);
            c31 = v3.fma(x1, c31);
            c40 = v4.fma(x0, c40);
            c41 = v4.fma(x1, c41);
            c50 = v5.fma(x0, c50);
            c51 = v5.fma(x1, c51);
            c60 = v6.fma(x0, c60);
            c61 = v6.fma(x1, c61);
            c70 = v7.fma(x0, c70);
            c71 = v7.fma(x1, c71);
        }
        c00.intoArray(acc, co);
        c01.intoArray(acc, co + L);
        c10.intoArray(acc, co + 2 * L);
        c11.intoArray(acc, co + 3 * L);
        c20.intoArray(acc, co + 4 * L);
        c21.intoArray(acc, co + 5 * L);
        c30.intoArray(acc, co + 6 * L);
        c31.intoArray(acc, co + 7 * L);
        c40.intoArray(acc, co + 8 * L);
        c41.intoArray(acc, co + 9 * L);
        c50.intoArray(acc, co + 10 * L);
        c51.intoArray(acc, co + 11 * L);
        c60.intoArray(acc, co + 12 * L);
        c61.intoArray(acc, co + 13 * L);
        c70.intoArray(acc, co + 14 * L);
        c71.intoArray(acc, co + 15 * L);
    }
}
