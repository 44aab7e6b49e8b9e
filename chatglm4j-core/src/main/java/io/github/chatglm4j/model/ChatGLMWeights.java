package io.github.chatglm4j.model;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.Vectors;
import io.github.chatglm4j.tensor.WeightMatrix;

import java.util.Arrays;

/**
 * All weights of a ChatGLM3 model, checked against the config. Matrices stay in the checkpoint's mapping in their
 * stored type; only the small 1-D tensors (norms, bias) are read into float arrays.
 */
public final class ChatGLMWeights {
    static final String PREFIX = "transformer.";

    final WeightMatrix embedding;
    final LayerWeights[] layers;
    final float[] finalNorm;
    final WeightMatrix output;

    private ChatGLMWeights(WeightMatrix embedding, LayerWeights[] layers, float[] finalNorm, WeightMatrix output) {
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.output = output;
    }

    /** Binds every tensor the config requires, failing with the file and tensor name on any mismatch. */
    public static ChatGLMWeights bind(ChatGLMConfig c, TensorSource source) {
        var b = new Binder(source);
        WeightMatrix embedding = b.matrix("embedding.word_embeddings.weight", c.vocabSize(), c.hiddenSize());
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "encoder.layers." + i + ".";
            layers[i] = new LayerWeights(
                    b.vector(p + "input_layernorm.weight", c.hiddenSize()),
                    b.matrix(p + "self_attention.query_key_value.weight", c.qkvSize(), c.hiddenSize()),
                    b.vector(p + "self_attention.query_key_value.bias", c.qkvSize()),
                    b.matrix(p + "self_attention.dense.weight", c.hiddenSize(), c.numHeads() * c.headDim()),
                    b.vector(p + "post_attention_layernorm.weight", c.hiddenSize()),
                    b.matrix(p + "mlp.dense_h_to_4h.weight", 2 * c.ffnHiddenSize(), c.hiddenSize()),
                    b.matrix(p + "mlp.dense_4h_to_h.weight", c.hiddenSize(), c.ffnHiddenSize()));
        }
        float[] finalNorm = b.vector("encoder.final_layernorm.weight", c.hiddenSize());
        WeightMatrix output = b.matrix("output_layer.weight", c.vocabSize(), c.hiddenSize());
        return new ChatGLMWeights(embedding, layers, finalNorm, output);
    }

    /** The stored type of the big matrices (for display). */
    public TensorType matrixType() {
        return layers.length > 0 ? layers[0].qkv().type() : output.type();
    }

    /**
     * A short label for the matrices' storage: the type name when all layers share one, else the type holding
     * most bytes followed by "mix" (llama.cpp's Q4_K_M files mix Q4_K, Q5_K, Q6_K, Q5_0 and Q8_0).
     */
    public String typeLabel() {
        java.util.Map<TensorType, Long> bytes = new java.util.EnumMap<>(TensorType.class);
        for (LayerWeights l : layers) {
            for (WeightMatrix m : new WeightMatrix[]{l.qkv(), l.dense(), l.hTo4h(), l.fourHToH()}) {
                bytes.merge(m.type(), m.data().byteSize(), Long::sum);
            }
        }
        if (bytes.isEmpty()) {
            return output.type().name();
        }
        TensorType main = java.util.Collections.max(bytes.entrySet(), java.util.Map.Entry.comparingByValue()).getKey();
        return bytes.size() == 1 ? main.name() : main.name() + " mix";
    }

    /** Bytes of all matrices, as stored. */
    public long matrixBytes() {
        long n = embedding.data().byteSize() + output.data().byteSize();
        for (LayerWeights l : layers) {
            n += l.qkv().data().byteSize() + l.dense().data().byteSize() + l.hTo4h().data().byteSize() + l.fourHToH().data().byteSize();
        }
        return n;
    }

    private record Binder(TensorSource source) {
        TensorEntry find(String name, long... shape) {
            TensorEntry t = source.tensor(PREFIX + name).orElseThrow(() ->
                    new ModelFormatException(source.location(), "tensor '" + PREFIX + name + "' is missing"));
            if (!Arrays.equals(t.shape(), shape)) {
                throw new ModelFormatException(t.file(), "tensor '" + t.name() + "' has shape " + t.shapeString()
                        + ", the config requires " + Arrays.toString(shape));
            }
            return t;
        }

        WeightMatrix matrix(String name, int rows, int cols) {
            TensorEntry t = find(name, rows, cols);
            return new WeightMatrix(t.data(), t.type(), rows, cols);
        }

        float[] vector(String name, int n) {
            TensorEntry t = find(name, n);
            return Vectors.toFloatArray(t.data(), t.type(), n);
        }
    }
}
