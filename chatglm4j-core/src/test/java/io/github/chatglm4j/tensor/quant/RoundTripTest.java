package io.github.chatglm4j.tensor.quant;

import io.github.chatglm4j.tensor.TensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** Quantize then dequantize stays within {@link ErrorBounds} (per element, or per block RMS for the K-quants) on seeded data of every kind. */
class RoundTripTest {

    /** A named row of test data, a whole number of blocks long. */
    record Case(String name, float[] values) {
    }

    /** Rows of 1, 3 or 5 blocks (odd counts) covering typical, degenerate and extreme blocks. */
    static List<Case> cases(TensorType type, long seed) {
        int bs = type.blockSize();
        Random rnd = new Random(seed);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("gaussian", gaussian(rnd, 5 * bs, 1)));
        cases.add(new Case("weight-like N(0, 0.02)", gaussian(rnd, 3 * bs, 0.02)));
        cases.add(new Case("uniform positive", uniform(rnd, 3 * bs, 0.5, 2.0)));
        cases.add(new Case("uniform negative", uniform(rnd, 3 * bs, -7.0, -0.25)));
        float[] zeroMiddle = gaussian(rnd, 3 * bs, 1);
        Arrays.fill(zeroMiddle, bs, 2 * bs, 0f);
        cases.add(new Case("all-zero block between others", zeroMiddle));
        cases.add(new Case("all zero", new float[bs]));
        cases.add(new Case("constant 0.7", constant(bs, 0.7f)));
        cases.add(new Case("constant -3.25", constant(bs, -3.25f)));
        cases.add(new Case("huge (|x| up to 6e4)", gaussianClamped(rnd, 3 * bs, 2e4, 6e4)));
        cases.add(new Case("tiny (1e-6, half-float subnormal scales)", gaussian(rnd, 3 * bs, 1e-6)));
        cases.add(new Case("tiny (1e-30, scales underflow)", gaussian(rnd, bs, 1e-30)));
        float[] outlier = gaussian(rnd, 3 * bs, 1e-3);
        outlier[bs + 5] = 100f;
        outlier[2 * bs + 17] = -50f;
        cases.add(new Case("outliers among small values", outlier));
        float[] ties = new float[bs];
        for (int i = 0; i < bs; i++) {
            ties[i] = (i % 16 - 8) * 0.5f; // many values exactly between levels
        }
        cases.add(new Case("half-step ties", ties));
        return cases;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void roundTripErrorStaysWithinTheBound(TensorType type) {
        for (long seed = 1; seed <= 20; seed++) {
            for (Case c : cases(type, seed)) {
                float[] x = c.values();
                float[] back = roundTrip(type, x);
                int bs = type.blockSize();
                for (int b = 0; b < x.length / bs; b++) {
                    double[] bound = ErrorBounds.of(type, x, b * bs);
                    double squares = 0;
                    double boundSquares = 0;
                    for (int i = 0; i < bs; i++) {
                        int k = b * bs + i;
                        double err = Math.abs((double) x[k] - back[k]);
                        squares += err * err;
                        boundSquares += bound[i] * bound[i];
                        if (!ErrorBounds.isRms(type) && !(err <= bound[i])) {
                            fail("%s, seed %d, case '%s': element %d is %s, decoded %s: error %s exceeds the bound %s",
                                    type, seed, c.name(), k, x[k], back[k], err, bound[i]);
                        }
                    }
                    if (ErrorBounds.isRms(type) && !(squares <= boundSquares)) {
                        fail("%s, seed %d, case '%s': block %d has an RMS error of %s, above the bound %s", type, seed, c.name(), b,
                                Math.sqrt(squares / bs), Math.sqrt(boundSquares / bs));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void zeroBlocksDecodeToZero(TensorType type) {
        float[] back = roundTrip(type, new float[3 * type.blockSize()]);
        for (int i = 0; i < back.length; i++) {
            assertThat(back[i]).as("%s element %d of an all-zero row", type, i).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void writesExactlyItsBlocksAndReadsExactlyItsValues(TensorType type) {
        int bs = type.blockSize();
        float[] x = gaussian(new Random(7), 3 * bs + 7, 1);
        int srcOff = 7;
        int count = 3 * bs;
        long bytes = type.byteSize(count);
        try (Arena arena = Arena.ofConfined()) {
            long pad = 13; // odd: unaligned blocks must work too
            MemorySegment seg = arena.allocate(bytes + 2 * pad);
            seg.fill((byte) 0x5A);
            Quantization.quantizeRow(type, x, srcOff, count, seg, pad);
            byte[] all = seg.toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < all.length; i++) {
                if ((i < pad || i >= pad + bytes) && all[i] != 0x5A) {
                    fail("%s quantizer wrote byte %d outside its range [%d, %d)", type, i, pad, pad + bytes);
                }
            }
            MemorySegment alone = arena.allocate(bytes);
            Quantization.quantizeRow(type, Arrays.copyOfRange(x, srcOff, srcOff + count), 0, count, alone, 0);
            assertThat(seg.asSlice(pad, bytes).toArray(ValueLayout.JAVA_BYTE))
                    .as("%s blocks at an offset equal the blocks written alone", type)
                    .isEqualTo(alone.toArray(ValueLayout.JAVA_BYTE));

            float[] dst = new float[count + 10];
            Arrays.fill(dst, Float.NaN);
            Quantization.dequantizeRow(type, seg, pad, dst, 5, count);
            for (int i = 0; i < dst.length; i++) {
                boolean inside = i >= 5 && i < 5 + count;
                assertThat(Float.isNaN(dst[i])).as("%s dequantizer %s element %d", type, inside ? "filled" : "left alone", i)
                        .isEqualTo(!inside);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void badInputIsRefusedWithAClearMessage(TensorType type) {
        int bs = type.blockSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(type.byteSize(2L * bs));
            float[] nan = new float[2 * bs];
            nan[bs + 3] = Float.NaN;
            assertThatThrownBy(() -> Quantization.quantizeRow(type, nan, 0, 2 * bs, seg, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-finite value NaN at index " + (bs + 3));
            float[] inf = new float[bs];
            inf[0] = Float.NEGATIVE_INFINITY;
            assertThatThrownBy(() -> Quantization.quantizeRow(type, inf, 0, bs, seg, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-finite");
            float[] huge = constant(bs, 3e38f);
            huge[1] = -3e38f;
            assertThatThrownBy(() -> Quantization.quantizeRow(type, huge, 0, bs, seg, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too large for a half-float block scale");
            assertThatThrownBy(() -> Quantization.quantizeRow(type, new float[bs + 1], 0, bs + 1, seg, 0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a whole number of " + type + " blocks");
            assertThatThrownBy(() -> Quantization.quantizeRow(type, new float[2 * bs], 0, 2 * bs, seg, 1))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> Quantization.dequantizeRow(type, seg, 0, new float[bs], 0, 2 * bs))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    static float[] roundTrip(TensorType type, float[] x) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(type.byteSize(x.length));
            Quantization.quantizeRow(type, x, 0, x.length, seg, 0);
            float[] back = new float[x.length];
            Quantization.dequantizeRow(type, seg, 0, back, 0, x.length);
            return back;
        }
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return x;
    }

    static float[] gaussianClamped(Random rnd, int n, double sigma, double limit) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.clamp(rnd.nextGaussian() * sigma, -limit, limit);
        }
        return x;
    }

    static float[] uniform(Random rnd, int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return x;
    }

    static float[] constant(int n, float v) {
        float[] x = new float[n];
        Arrays.fill(x, v);
        return x;
    }
}
