package io.github.chatglm4j.model;

/**
 * ChatGLM3's rotary embedding: only the first half of each head's dimensions rotate, as adjacent (interleaved)
 * pairs, with base {@code 10000 × rope_ratio}. The frequencies are computed in float32 exactly as the reference
 * does ({@code 1 / base^(2i/d)} with d = headDim/2), so angles match it bit for bit.
 */
final class Rope {
    private final float[] theta;

    Rope(ChatGLMConfig config) {
        int rotDim = config.headDim() / 2;
        theta = new float[rotDim / 2];
        float base = (float) config.ropeBase();
        for (int i = 0; i < theta.length; i++) {
            float exponent = (float) (2 * i) / (float) rotDim;
            float power = (float) Math.pow(base, exponent);
            theta[i] = 1.0f / power;
        }
    }

    int pairs() {
        return theta.length;
    }

    /** Fills {@code cos[at …]} and {@code sin[at …]} ({@link #pairs()} values each) for one position. */
    void angles(int position, float[] cos, float[] sin, int at) {
        for (int i = 0; i < theta.length; i++) {
            float angle = (float) position * theta[i];
            cos[at + i] = (float) Math.cos(angle);
            sin[at + i] = (float) Math.sin(angle);
        }
    }

    /** Rotates the first {@code 2·pairs} values of the head starting at {@code off} by the angles at {@code cos[at …]}. */
    void rotate(float[] x, int off, float[] cos, float[] sin, int at) {
        for (int i = 0; i < theta.length; i++) {
            float x0 = x[off + 2 * i];
            float x1 = x[off + 2 * i + 1];
            float c = cos[at + i];
            float s = sin[at + i];
            x[off + 2 * i] = x0 * c - x1 * s;
            x[off + 2 * i + 1] = x1 * c + x0 * s;
        }
    }
}
