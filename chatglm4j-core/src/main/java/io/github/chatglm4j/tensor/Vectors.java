package io.github.chatglm4j.tensor;
import java.lang.foreign.MemorySegment;
// PLACEHOLDER (replaced by wip-kernels)
public final class Vectors { public static float[] toFloatArray(MemorySegment data, TensorType type, int n) { float[] f = new float[n]; new WeightMatrix(data, type, 1, n).copyRow(0, f, 0); return f; } }
