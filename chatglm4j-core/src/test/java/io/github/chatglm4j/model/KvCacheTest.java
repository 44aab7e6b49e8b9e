package io.github.chatglm4j.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

/** Storage of the KV cache: sizes per type, growth, and what each type gives back for what was stored. */
class KvCacheTest {
    /** chatglm3-6b: 28 layers, 2 KV groups of head dim 128. */
    static final ChatGLMConfig SIX_B = new ChatGLMConfig(28, 4096, 13696, 32, 128, 2, 65024, 131072, 1e-5f, 500f);

    @Test
    void bytesPerTokenOfA6bModelFollowTheType() {
        // the reference notes 28,672 bytes per token in fp16 (28 layers x K,V x 2 groups x 128 x 2 bytes)
        assertThat(KvType.F16.bytes(SIX_B, 1)).isEqualTo(28_672);
        assertThat(KvType.F32.bytes(SIX_B, 1)).isEqualTo(2 * 28_672);
        // Q8_0: 256 int8 values and 8 float scales per K (and V) row
        assertThat(KvType.Q8_0.bytes(SIX_B, 1)).isEqualTo(28L * 2 * (256 + 8 * 4));
        var cache = new KvCache(SIX_B, 131_072, KvType.F16);
        assertThat(cache.bytesAtCapacity()).as("128K tokens in F16: 3.5 GiB, no int overflow").isEqualTo(3_758_096_384L);
        assertThat(cache.bytesReserved()).as("nothing is reserved before the first token").isZero();
    }

    @Test
    void storageGrowsOnDemandUpToTheCapacityAndKeepsItsContents() {
        ChatGLMConfig c = new ChatGLMConfig(2, 64, 8, 4, 16, 2, 8, 4096, 1e-5f, 1f);
        var cache = new KvCache(c, 1000, KvType.F16);
        float[] row = new float[2 * c.kvSize()];
        cache.reserve(3);
        for (int p = 0; p < 3; p++) {
            java.util.Arrays.fill(row, p + 1);
            cache.store(1, p, row, 0, c.kvSize());
        }
        cache.advance(3);
        assertThat(cache.bytesReserved()).as("first reservation: 256 positions").isEqualTo(KvType.F16.bytes(c, 256));
        cache.reserve(700);
        assertThat(cache.bytesReserved()).as("grown to the need, doubling").isEqualTo(KvType.F16.bytes(c, 703));
        cache.advance(700);
        cache.reserve(297);
        assertThat(cache.bytesReserved()).as("never beyond the capacity").isEqualTo(KvType.F16.bytes(c, 1000));
        assertThat(cache.bytesAtCapacity()).isEqualTo(KvType.F16.bytes(c, 1000));
        float[] got = new float[3 * c.headDim()];
        cache.values(1).decode(0, 3, c.headDim(), c.headDim(), got);
        for (int p = 0; p < 3; p++) {
            assertThat(got[p * c.headDim()]).as("value of position %d after two growths", p).isEqualTo(p + 1f);
        }
        assertThatThrownBy(() -> cache.reserve(298)).isInstanceOf(IllegalStateException.class)
                .hasMessage("context full: 703 + 298 positions exceed the capacity of 1000");
        assertThatThrownBy(() -> cache.truncate(704)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void f16StoresTheNearestHalfAndClampsBeyondItsRange() {
        // head dim 16 takes the vector path, head dim 12 the scalar one
        for (int headDim : new int[]{16, 12}) {
            ChatGLMConfig c = new ChatGLMConfig(1, 2 * headDim, 8, 2, headDim, 2, 8, 64, 1e-5f, 1f);
            float[] row = new float[2 * c.kvSize()];
            var random = new SplittableRandom(headDim);
            float[] special = {0f, -0f, 1e-7f, -3e-6f, 6.1e-5f, 65504f, 1e6f, -1e6f, 0.1f, -2.5f};
            for (int i = 0; i < row.length; i++) {
                row[i] = i < special.length ? special[i] : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-4, 4)));
            }
            float[] got = roundTrip(c, KvType.F16, row);
            for (int i = 0; i < c.kvSize(); i++) {
                float want = Float.float16ToFloat(Float.floatToFloat16(Math.clamp(row[i], -65504f, 65504f)));
                if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want)) {
                    fail("head dim " + headDim + ", key " + i + ": stored " + row[i] + ", read back " + got[i] + ", expected the half " + want);
                }
            }
        }
    }

    @Test
    void q8_0KeepsEachValueWithinHalfAStepOfItsBlockScale() {
        for (int headDim : new int[]{128, 12}) {
            ChatGLMConfig c = new ChatGLMConfig(1, 2 * headDim, 8, 2, headDim, 2, 8, 64, 1e-5f, 1f);
            var random = new SplittableRandom(7);
            float[] row = new float[2 * c.kvSize()];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (random.nextGaussian() * (i / 32 + 1));
            }
            for (int i = 32; i < 64 && i < c.kvSize(); i++) {
                row[i] = 0; // an all-zero block
            }
            float[] got = roundTrip(c, KvType.Q8_0, row);
            for (int b = 0; b < c.kvSize(); b += 32) {
                int end = Math.min(c.kvSize(), b + 32);
                double amax = 0;
                for (int i = b; i < end; i++) {
                    amax = Math.max(amax, Math.abs(row[i]));
                }
                double step = amax / 127;
                for (int i = b; i < end; i++) {
                    double err = Math.abs(got[i] - row[i]);
                    if (!(err <= step / 2 * (1 + 1e-5) + 1e-30)) {
                        fail("head dim " + headDim + ", key " + i + ": stored " + row[i] + ", read back " + got[i]
                                + ", error " + err + " > half the step " + step / 2);
                    }
                }
            }
        }
    }

    @Test
    void aPositionBeyond100kOfA6bLayerIsAddressable() {
        ChatGLMConfig oneLayer = new ChatGLMConfig(1, 4096, 13696, 32, 128, 2, 65024, 131072, 1e-5f, 500f);
        for (KvType type : KvType.values()) {
            var cache = new KvCache(oneLayer, 131_072, type);
            cache.reserve(131_072);
            float[] row = new float[2 * oneLayer.kvSize()];
            for (int i = 0; i < row.length; i++) {
                row[i] = i % 7 - 3;
            }
            cache.store(0, 131_071, row, 0, oneLayer.kvSize());
            float[] got = new float[oneLayer.headDim()];
            cache.values(0).decode(131_071, 1, oneLayer.headDim(), oneLayer.headDim(), got);
            for (int i = 0; i < got.length; i++) {
                assertThat(got[i]).as("%s value %d of the last position", type, i)
                        .isCloseTo(row[oneLayer.kvSize() + oneLayer.headDim() + i], org.assertj.core.data.Offset.offset(0.03f));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(KvType.class)
    void typeNamesParse(KvType type) {
        assertThat(KvType.parse(type.label())).isEqualTo(type);
        assertThat(KvType.parse(type.label().toUpperCase())).isEqualTo(type);
    }

    @Test
    void unknownTypeNameIsAOneLineError() {
        assertThatThrownBy(() -> KvType.parse("q4_0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown KV cache type 'q4_0' (expected f32, f16 or q8_0)");
    }

    /** Stores one position's keys ({@code row[0, kvSize)}) and returns them as attention reads them, head by head. */
    private static float[] roundTrip(ChatGLMConfig c, KvType type, float[] row) {
        var cache = new KvCache(c, 4, type);
        cache.reserve(4);
        cache.store(0, 2, row, 0, c.kvSize());
        float[] all = new float[c.kvSize()];
        float[] head = new float[c.headDim()];
        for (int g = 0; g < c.kvGroups(); g++) {
            cache.keys(0).decode(2, 1, g * c.headDim(), c.headDim(), head);
            System.arraycopy(head, 0, all, g * c.headDim(), c.headDim());
        }
        return all;
    }
}
