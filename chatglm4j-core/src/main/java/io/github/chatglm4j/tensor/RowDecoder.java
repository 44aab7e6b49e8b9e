package io.github.chatglm4j.tensor;

/** Decodes part of one stored weight row to float32: the prefill products' view of a matrix's layout. */
@FunctionalInterface
interface RowDecoder {

    /** Writes weights {@code [col0, col0 + len)} of row {@code row} to {@code dst[off ...]}; col0 is a multiple of 256. */
    void decode(int row, int col0, float[] dst, int off, int len);
}
