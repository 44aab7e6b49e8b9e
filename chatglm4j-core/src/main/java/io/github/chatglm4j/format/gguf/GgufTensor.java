package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file as the file describes it.
 *
 * @param ne     ggml dimensions, contiguous one first ({@code ne[0]} is the row length)
 * @param offset where its bytes start, relative to the data section
 * @param data   a read-only slice of the file mapping holding exactly its bytes, in the stored type
 */
public record GgufTensor(String name, TensorType type, long[] ne, long offset, MemorySegment data) {

    public GgufTensor {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    /** The shape outermost dimension first, as PyTorch and the rest of the engine write it ({@code ne} reversed). */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = ne[ne.length - 1 - i];
        }
        return s;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne) + " @" + offset;
    }
}
