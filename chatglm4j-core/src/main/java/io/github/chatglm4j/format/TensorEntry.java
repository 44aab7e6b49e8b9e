package io.github.chatglm4j.format;

import io.github.chatglm4j.tensor.TensorType;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor found in a checkpoint file: its name, stored type, shape (outermost dimension first, as PyTorch
 * writes it) and a read-only slice of the file mapping holding exactly its bytes in row-major order.
 */
public record TensorEntry(String name, TensorType type, long[] shape, MemorySegment data, Path file) {

    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Product of all dimensions. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The shape as PyTorch prints it, e.g. {@code [4608, 4096]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }
}
