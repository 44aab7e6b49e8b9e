package io.github.chatglm4j.model;

import io.github.chatglm4j.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-query attention over the KV cache: query head h reads K/V group {@code h / (numHeads / kvGroups)}.
 * Scores are scaled by 1/sqrt(headDim) and soft-maxed in float32 (the reference's query-key layer scaling
 * divides and multiplies by the layer number, which cancels).
 */
final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {
    }

    /**
     * For each of the {@code n} new tokens (absolute positions {@code pos0 … pos0+n-1}, already in the cache),
     * writes the concatenated head outputs into {@code out[t·numHeads·headDim …]}.
     *
     * @param qkv the projected, rotated rows [n, qkvSize]; queries are the first numHeads·headDim values
     */
    static void run(ChatGLMConfig c, float[] qkv, int n, int pos0, float[] keys, float[] values, float[] out, Parallel pool) {
        int heads = c.numHeads();
        int headDim = c.headDim();
        int kvSize = c.kvSize();
        int qkvSize = c.qkvSize();
        int headsPerGroup = heads / c.kvGroups();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        pool.forRange(n * heads, (start, end) -> {
            float[] scores = new float[pos0 + n];
            for (int job = start; job < end; job++) {
                int t = job / heads;
                int h = job % heads;
                int qOff = t * qkvSize + h * headDim;
                int kvOff = (h / headsPerGroup) * headDim;
                int len = pos0 + t + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < len; j++) {
                    float s = dot(qkv, qOff, keys, j * kvSize + kvOff, headDim) * scale;
                    scores[j] = s;
                    max = Math.max(max, s);
                }
                float sum = 0;
                for (int j = 0; j < len; j++) {
                    float e = (float) Math.exp(scores[j] - max);
                    scores[j] = e;
                    sum += e;
                }
                float inv = 1.0f / sum;
                int oOff = t * heads * headDim + h * headDim;
                java.util.Arrays.fill(out, oOff, oOff + headDim, 0f);
                for (int j = 0; j < len; j++) {
                    axpy(scores[j] * inv, values, j * kvSize + kvOff, out, oOff, headDim);
                }
            }
        });
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(len); i < bound; i += S.length()) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(len); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < len; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }
}
