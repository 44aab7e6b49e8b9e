package io.github.chatglm4j.tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
// PLACEHOLDER (replaced by wip-kernels)
public final class WeightMatrix {
    private final MemorySegment data; private final TensorType type; private final int rows, cols;
    public WeightMatrix(MemorySegment data, TensorType type, int rows, int cols) { this.data = data; this.type = type; this.rows = rows; this.cols = cols;
        if (data.byteSize() != type.byteSize((long) rows * cols)) throw new IllegalArgumentException("size"); }
    public int rows() { return rows; } public int cols() { return cols; } public TensorType type() { return type; } public MemorySegment data() { return data; }
    float get(long i) { return switch (type) {
        case F32 -> data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 4);
        case F16 -> Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 2));
        case BF16 -> Float.intBitsToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 2) << 16);
    }; }
    public void matvec(float[] x, float[] out, Parallel pool) { matmul(x, 1, out, pool); }
    public void matmul(float[] x, int n, float[] out, Parallel pool) {
        for (int r = 0; r < rows; r++) for (int t = 0; t < n; t++) { float s = 0; for (int c = 0; c < cols; c++) s += get((long) r * cols + c) * x[t * cols + c]; out[t * rows + r] = s; } }
    public void copyRow(int r, float[] dst, int off) { for (int c = 0; c < cols; c++) dst[off + c] = get((long) r * cols + c); }
}
