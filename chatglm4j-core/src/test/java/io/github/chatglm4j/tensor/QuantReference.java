package io.github.chatglm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * Test oracle for the block-quantized types, written element by element from the block layouts (see
 * {@code shared/docs/peers-cpp.md} and ggml's format definitions) rather than block by block like the kernels:
 * {@link #element} finds the byte, bits and scale of one weight and applies ggml's float32 formula. Also builds
 * random blocks with realistic scales and quantizes activations the way {@link Q8Activations} is specified.
 */
final class QuantReference {

    private QuantReference() {
    }

    private static int u8(MemorySegment s, long o) {
        return s.get(ValueLayout.JAVA_BYTE, o) & 0xFF;
    }

    private static float half(MemorySegment s, long o) {
        return (float) ReferenceMath.f16(s.get(ReferenceMath.SHORT_LE, o) & 0xFFFF);
    }

    /** 6-bit scale (which 0) or min (which 1) of sub-block j of a Q4_K/Q5_K block whose scales start at s. */
    private static int kScale(MemorySegment src, long s, int j, int which) {
        if (j < 4) {
            return u8(src, s + j + 4 * which) & 0x3F;
        }
        int low = which == 0 ? u8(src, s + j + 4) & 0xF : u8(src, s + j + 4) >> 4;
        int high = which == 0 ? u8(src, s + j - 4) >> 6 : u8(src, s + j) >> 6;
        return low | high << 4;
    }

    /** Weight {@code e} of the tensor (elements counted from the segment start), as ggml's float32 formula gives it. */
    static float element(MemorySegment src, TensorType type, long e) {
        long block = e / type.blockSize();
        int i = (int) (e % type.blockSize());
        long o = block * type.bytesPerBlock();
        switch (type) {
            case Q8_0:
                return half(src, o) * (float) src.get(ValueLayout.JAVA_BYTE, o + 2 + i);
            case Q4_0: {
                int nib = i < 16 ? u8(src, o + 2 + i) & 0xF : u8(src, o + 2 + i - 16) >> 4;
                return half(src, o) * (float) (nib - 8);
            }
            case Q4_1: {
                int nib = i < 16 ? u8(src, o + 4 + i) & 0xF : u8(src, o + 4 + i - 16) >> 4;
                return half(src, o) * (float) nib + half(src, o + 2);
            }
            case Q5_0: {
                long qh = src.get(QuantDecode.INT_LE, o + 2) & 0xFFFFFFFFL;
                int nib = i < 16 ? u8(src, o + 6 + i) & 0xF : u8(src, o + 6 + i - 16) >> 4;
                int v = nib | (int) (qh >> i & 1) << 4;
                return half(src, o) * (float) (v - 16);
            }
            case Q5_1: {
                long qh = src.get(QuantDecode.INT_LE, o + 4) & 0xFFFFFFFFL;
                int nib = i < 16 ? u8(src, o + 8 + i) & 0xF : u8(src, o + 8 + i - 16) >> 4;
                int v = nib | (int) (qh >> i & 1) << 4;
                return half(src, o) * (float) v + half(src, o + 2);
            }
            case Q4_K: {
                int sub = i / 32;
                int l = i % 32;
                int b = u8(src, o + 16 + 32L * (sub / 2) + l);
                int nib = sub % 2 == 0 ? b & 0xF : b >> 4;
                float d = half(src, o) * (float) kScale(src, o + 4, sub, 0);
                float m = half(src, o + 2) * (float) kScale(src, o + 4, sub, 1);
                return d * (float) nib - m;
            }
            case Q5_K: {
                int sub = i / 32;
                int l = i % 32;
                int b = u8(src, o + 48 + 32L * (sub / 2) + l);
                int nib = sub % 2 == 0 ? b & 0xF : b >> 4;
                int v = nib | (u8(src, o + 16 + l) >> sub & 1) << 4;
                float d = half(src, o) * (float) kScale(src, o + 4, sub, 0);
                float m = half(src, o + 2) * (float) kScale(src, o + 4, sub, 1);
                return d * (float) v - m;
            }
            case Q6_K: {
                int h = i / 128; // half
                int g = i % 128 / 32; // which of the four 32-weight groups of the half
                int l = i % 32;
                int ql = u8(src, o + 64L * h + l + (g % 2 == 1 ? 32 : 0));
                int low = g < 2 ? ql & 0xF : ql >> 4;
                int high = u8(src, o + 128 + 32L * h + l) >> (2 * g) & 3;
                int scale = src.get(ValueLayout.JAVA_BYTE, o + 192 + 8L * h + l / 16 + 2 * g);
                float d = half(src, o + 208);
                return d * (float) scale * (float) ((low | high << 4) - 32);
            }
            case Q2_K: {
                int sc = u8(src, o + i / 16);
                int q = u8(src, o + 16 + 32L * (i / 128) + i % 32) >> (2 * (i % 128 / 32)) & 3;
                float dl = half(src, o + 80) * (float) (sc & 0xF);
                float ml = half(src, o + 82) * (float) (sc >> 4);
                return dl * (float) q - ml;
            }
            case Q3_K: {
                int j = i / 16; // sub-block
                int low4 = j < 8 ? u8(src, o + 96 + j) & 0xF : u8(src, o + 96 + j - 8) >> 4;
                int scale = low4 | (u8(src, o + 104 + j % 4) >> (2 * (j / 4)) & 3) << 4;
                int q = u8(src, o + 32 + 32L * (i / 128) + i % 32) >> (2 * (i % 128 / 32)) & 3;
                boolean high = (u8(src, o + i % 32) >> (i / 32) & 1) != 0;
                float dl = half(src, o + 108) * (float) (scale - 32);
                return dl * (float) (q - (high ? 0 : 4));
            }
            case IQ4_NL: {
                int nib = i < 16 ? u8(src, o + 2 + i) & 0xF : u8(src, o + 2 + i - 16) >> 4;
                return half(src, o) * (float) IQ4_GRID[nib];
            }
            case IQ4_XS: {
                int g = i / 32;
                int j = i % 32;
                int nib = j < 16 ? u8(src, o + 8 + 16L * g + j) & 0xF : u8(src, o + 8 + 16L * g + j - 16) >> 4;
                int high = (u8(src, o + 2) | u8(src, o + 3) << 8) >> (2 * g) & 3;
                int scale = (u8(src, o + 4 + g / 2) >> (4 * (g % 2)) & 0xF) | high << 4;
                float dl = half(src, o) * (float) (scale - 32);
                return dl * (float) IQ4_GRID[nib];
            }
            default:
                return (float) ReferenceMath.element(src, type, e);
        }
    }

    /** ggml's kvalues_iq4nl, the grid of IQ4_NL and IQ4_XS. */
    private static final int[] IQ4_GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** Any type: element {@code e} as double (block types through {@link #element}). */
    static double value(MemorySegment src, TensorType type, long e) {
        return type.isQuantized() ? element(src, type, e) : ReferenceMath.element(src, type, e);
    }

    /**
     * Random blocks: every byte random, then the f16 scale fields set to realistic magnitudes for weights of standard
     * deviation ~0.02 (a trained linear layer). Every 11th block of the 32-weight types gets scale 0.
     */
    static MemorySegment randomBlocks(Arena arena, TensorType type, long elements, Random random) {
        if (!type.isQuantized()) {
            return ReferenceMath.randomTensor(arena, type, elements, random);
        }
        long blocks = elements / type.blockSize();
        MemorySegment data = arena.allocate(blocks * type.bytesPerBlock(), 64);
        for (long b = 0; b < blocks; b++) {
            long o = b * type.bytesPerBlock();
            for (int j = 0; j < type.bytesPerBlock(); j++) {
                data.set(ValueLayout.JAVA_BYTE, o + j, (byte) random.nextInt(256));
            }
            float spread = (float) (0.5 + random.nextDouble());
            boolean zero = b % 11 == 7;
            switch (type) {
                case Q8_0 -> setHalf(data, o, zero ? 0 : spread * 0.06f / 127);
                case Q4_0 -> setHalf(data, o, zero ? 0 : spread * 0.06f / (random.nextBoolean() ? 8 : -8));
                case Q5_0 -> setHalf(data, o, zero ? 0 : spread * 0.06f / (random.nextBoolean() ? 16 : -16));
                case Q4_1, Q5_1 -> {
                    float d = zero ? 0 : spread * 0.12f / (type == TensorType.Q4_1 ? 15 : 31);
                    setHalf(data, o, d);
                    setHalf(data, o + 2, -spread * 0.06f);
                }
                case Q4_K, Q5_K -> {
                    setHalf(data, o, spread * 0.12f / 63 / (type == TensorType.Q4_K ? 15 : 31));
                    setHalf(data, o + 2, spread * 0.06f / 63);
                }
                case Q6_K -> setHalf(data, o + 208, spread * 0.06f / 32 / 127);
                case Q2_K -> {
                    setHalf(data, o + 80, spread * 0.12f / 15 / 3);
                    setHalf(data, o + 82, spread * 0.06f / 15);
                }
                case Q3_K -> setHalf(data, o + 108, spread * 0.06f / 32 / 4);
                case IQ4_NL -> setHalf(data, o, zero ? 0 : spread * 0.06f / (random.nextBoolean() ? 127 : -127));
                case IQ4_XS -> setHalf(data, o, spread * 0.06f / 127 / 32);
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return data;
    }

    private static void setHalf(MemorySegment data, long o, float value) {
        data.set(ReferenceMath.SHORT_LE, o, Float.floatToFloat16(value));
    }

    /**
     * x~ of {@link Q8Activations} for one row of {@code cols} values at {@code offset}: per 32 values
     * d = max|x| / 127 (float), q = Math.round(x * (1/d)), x~ = d * q.
     */
    static double[] quantizedActivations(float[] x, int offset, int cols) {
        double[] out = new double[cols];
        for (int b = 0; b < cols / 32; b++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(x[offset + 32 * b + i]));
            }
            float d = amax / 127f;
            float inv = d == 0 ? 0f : 1f / d;
            for (int i = 0; i < 32; i++) {
                out[32 * b + i] = (double) d * Math.round(x[offset + 32 * b + i] * inv);
            }
        }
        return out;
    }

    /** The largest activation quantization step d = max|x|/127 of the block holding column {@code c}. */
    static double activationStep(float[] x, int offset, int c) {
        int start = c / 32 * 32;
        double amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[offset + start + i]));
        }
        return amax / 127;
    }
}
