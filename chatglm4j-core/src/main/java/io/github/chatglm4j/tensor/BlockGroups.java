package io.github.chatglm4j.tensor;

import static io.github.chatglm4j.tensor.Decode.F16_MASK;
import static io.github.chatglm4j.tensor.Decode.F16_SCALE;
import static io.github.chatglm4j.tensor.Decode.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The regrouped ("repacked") layout of the 32-weight block types Q4_0 and Q8_0 and the species its kernels use,
 * at the width of {@link VectorWidth}: {@link #G} = 16 blocks per group with 256-bit vectors, 32 with 512.
 *
 * <p>A row's blocks are taken {@code G} at a time and laid side by side: first the {@code G} F16 scales, then the
 * quant bytes with byte k of block j at {@code G*k + j} (Q4_0: 16 bytes a block, weights k and k + 16; Q8_0: 32,
 * weight k). Same bytes and size as ggml's layout; the last {@code blocks % G} blocks of a row keep ggml's layout.
 * One vector load then holds byte k of {@code G} blocks, one block per 16-bit lane, so after the 16 or 32 steps of
 * a group each lane holds the dot product of one block: no horizontal sums, and the int-to-float conversion and the
 * scale FMA are paid once per {@code G} blocks (the ggml layout pays them per block, ~12 instructions per 32
 * weights against ~3.5 here at 512 bits).
 *
 * <p>The activations meet the weights in the same order ({@link #permuteGroup}): value k of block j at
 * {@code G*k + j} for k in 0..31. That order is the same for Q4_0 (low nibbles are k, high nibbles k + 16) and
 * Q8_0, so one permuted copy of the int8 activations ({@link Q8Activations#grouped}) serves both.
 */
final class BlockGroups {

    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(VectorWidth.BITS));
    /** G bytes, which widen to one {@link #S}. */
    static final VectorSpecies<Byte> BH = VectorSpecies.of(byte.class, VectorShape.forBitSize(VectorWidth.BITS / 2));
    /** G/2 F16 scales, which widen to one {@link #I}. */
    static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, VectorShape.forBitSize(VectorWidth.BITS / 2));
    /** G/2 bytes, which widen to one {@link #I} (decoding to floats). */
    static final VectorSpecies<Byte> BQ = VectorSpecies.of(byte.class, VectorShape.forBitSize(VectorWidth.BITS / 4));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(VectorWidth.BITS));
    static final VectorSpecies<Float> FW = VectorSpecies.of(float.class, VectorShape.forBitSize(VectorWidth.BITS));

    /** Blocks per group: one per 16-bit lane. */
    static final int G = VectorWidth.BITS / 16;
    /** Half a group: the blocks of one int or float vector. */
    static final int H = G / 2;
    /** Weights per group. */
    static final int GROUP_COLS = 32 * G;

    private BlockGroups() {
    }

    /** Groups in a row of {@code cols} weights; the blocks past them keep ggml's layout. */
    static int groups(int cols) {
        return cols / GROUP_COLS;
    }

    /**
     * Regroups rows {@code [r0, r1)} of a matrix of a 32-weight block type from ggml's layout in {@code src} to
     * {@code dst}: {@code blockBytes} = 18 (Q4_0) or 34 (Q8_0), 2 of them the F16 scale.
     */
    static void repackRows(MemorySegment src, MemorySegment dst, int cols, int blockBytes, int r0, int r1) {
        int blocks = cols / 32;
        int groups = blocks / G;
        int quants = blockBytes - 2;
        int groupBytes = blockBytes * G;
        long rowBytes = (long) blockBytes * blocks;
        byte[] in = new byte[groupBytes];
        byte[] out = new byte[groupBytes];
        for (int r = r0; r < r1; r++) {
            long o = r * rowBytes;
            for (int g = 0; g < groups; g++, o += groupBytes) {
                MemorySegment.copy(src, java.lang.foreign.ValueLayout.JAVA_BYTE, o, in, 0, groupBytes);
                for (int j = 0; j < G; j++) {
                    out[2 * j] = in[blockBytes * j];
                    out[2 * j + 1] = in[blockBytes * j + 1];
                    for (int k = 0; k < quants; k++) {
                        out[2 * G + G * k + j] = in[blockBytes * j + 2 + k];
                    }
                }
                MemorySegment.copy(out, 0, dst, java.lang.foreign.ValueLayout.JAVA_BYTE, o, groupBytes);
            }
            MemorySegment.copy(src, o, dst, o, rowBytes - (long) groups * groupBytes);
        }
    }

    /** One group of activations (int8 in shorts) from column order to group order: {@code dst[d + G*k + j] = src[s + 32j + k]}. */
    static void permuteGroup(short[] src, int s, short[] dst, int d) {
        for (int j = 0; j < G; j++) {
            for (int k = 0; k < 32; k++) {
                dst[d + G * k + j] = src[s + 32 * j + k];
            }
        }
    }

    /** The same permutation for one token's float values; the tail past the groups keeps its order. */
    static void permute(float[] src, int srcOff, float[] dst, int dstOff, int cols) {
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            int s = srcOff + g * GROUP_COLS;
            int d = dstOff + g * GROUP_COLS;
            for (int j = 0; j < G; j++) {
                for (int k = 0; k < 32; k++) {
                    dst[d + G * k + j] = src[s + 32 * j + k];
                }
            }
        }
        int done = groups * GROUP_COLS;
        System.arraycopy(src, srcOff + done, dst, dstOff + done, cols - done);
    }

    /** Inverse of {@link #permute}: group order back to column order. */
    static void unpermute(float[] src, float[] dst, int dstOff, int cols) {
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            int s = g * GROUP_COLS;
            int d = dstOff + g * GROUP_COLS;
            for (int j = 0; j < G; j++) {
                for (int k = 0; k < 32; k++) {
                    dst[d + 32 * j + k] = src[s + G * k + j];
                }
            }
        }
        int done = groups * GROUP_COLS;
        System.arraycopy(src, done, dst, dstOff + done, cols - done);
    }

    /** Decodes the group of G blocks at byte {@code o} to {@link #GROUP_COLS} floats at {@code dst[p]}, stored order. */
    @FunctionalInterface
    interface GroupDecoder {
        void decode(MemorySegment w, long o, float[] dst, int p);
    }

    /**
     * Weights {@code [col0, col0 + len)} of row {@code row} of a regrouped matrix in stored order (col0 and len
     * multiples of 32): whole groups straight into {@code dst}, a group only partly asked for through a scratch copy,
     * and the row's ungrouped tail blocks with the type's plain decoder.
     */
    static void decodeRow(MemorySegment w, int cols, int row, int col0, float[] dst, int p, int len, int blockBytes,
                          GroupDecoder group, TensorType.Decoder tail) {
        int blocks = cols / 32;
        int groupedCols = groups(cols) * GROUP_COLS;
        long rowStart = row * (long) blockBytes * blocks;
        int c = col0;
        int end = col0 + len;
        float[] tmp = null;
        while (c < end && c < groupedCols) {
            int g = c / GROUP_COLS;
            int in = c - g * GROUP_COLS;
            int n = Math.min(end, (g + 1) * GROUP_COLS) - c;
            long o = rowStart + (long) g * blockBytes * G;
            if (in == 0 && n == GROUP_COLS) {
                group.decode(w, o, dst, p);
            } else {
                tmp = tmp == null ? new float[GROUP_COLS] : tmp;
                group.decode(w, o, tmp, 0);
                System.arraycopy(tmp, in, dst, p, n);
            }
            c += n;
            p += n;
        }
        if (c < end) {
            tail.decode(w, rowStart + (long) (c / 32) * blockBytes, dst, p, (end - c) / 32);
        }
    }

    /** H F16 scales at byte {@code o} as floats (exact: the shift/mask/rescale of {@link Decode}). */
    static FloatVector scales(MemorySegment w, long o) {
        return ((IntVector) ShortVector.fromMemorySegment(SH, w, o, LE).castShape(I, 0))
                .lanewise(VectorOperators.LSHL, 13).and(F16_MASK).reinterpretAsFloats().mul(F16_SCALE);
    }
}
