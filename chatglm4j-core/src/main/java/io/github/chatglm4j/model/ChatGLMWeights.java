package io.github.chatglm4j.model;

import io.github.chatglm4j.format.ModelFormatException;
import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tensor.Vectors;
import io.github.chatglm4j.tensor.WeightMatrix;
import io.github.chatglm4j.tensor.quant.MatrixQuantizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All weights of a ChatGLM3 model, checked against the config. Matrices stay in the checkpoint's mapping in their
 * stored type unless they are quantized or repacked while loading ({@link #bind(ChatGLMConfig, TensorSource, TensorType,
 * MatrixQuantizer)}, {@link #replaceMatrices}); only the small 1-D tensors (norms, bias) are read into float arrays.
 */
public final class ChatGLMWeights {
    static final String PREFIX = "transformer.";
    private static final String EMBEDDING = "embedding.word_embeddings.weight";
    private static final String QKV = "self_attention.query_key_value.weight";
    private static final String DENSE = "self_attention.dense.weight";
    private static final String H_TO_4H = "mlp.dense_h_to_4h.weight";
    private static final String FOUR_H_TO_H = "mlp.dense_4h_to_h.weight";
    private static final String OUTPUT = "output_layer.weight";

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
        WeightMatrix embedding = b.matrix(EMBEDDING, c.vocabSize(), c.hiddenSize());
        checkLayerCount(c, source);
        LayerWeights[] layers = new LayerWeights[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = layerPrefix(i);
            layers[i] = new LayerWeights(
                    b.vector(p + "input_layernorm.weight", c.hiddenSize()),
                    b.matrix(p + QKV, c.qkvSize(), c.hiddenSize()),
                    b.vector(p + "self_attention.query_key_value.bias", c.qkvSize()),
                    b.matrix(p + DENSE, c.hiddenSize(), c.numHeads() * c.headDim()),
                    b.vector(p + "post_attention_layernorm.weight", c.hiddenSize()),
                    b.matrix(p + H_TO_4H, 2 * c.ffnHiddenSize(), c.hiddenSize()),
                    b.matrix(p + FOUR_H_TO_H, c.hiddenSize(), c.ffnHiddenSize()));
        }
        float[] finalNorm = b.vector("encoder.final_layernorm.weight", c.hiddenSize());
        WeightMatrix output = b.matrix(OUTPUT, c.vocabSize(), c.hiddenSize());
        return new ChatGLMWeights(embedding, layers, finalNorm, output);
    }

    /**
     * The config's layer count against the tensors actually there, before anything is allocated per layer: a config
     * that claims a billion layers must fail at once, not after gigabytes of empty layer slots.
     */
    private static void checkLayerCount(ChatGLMConfig c, TensorSource source) {
        int present = 0;
        while (present < c.numLayers() && source.tensor(PREFIX + layerPrefix(present) + "input_layernorm.weight").isPresent()) {
            present++;
        }
        if (present < c.numLayers()) {
            throw new ModelFormatException(source.location(), "the config has num_layers " + c.numLayers() + ", but the weights have "
                    + present + " layer" + (present == 1 ? "" : "s") + " (tensor '" + PREFIX + layerPrefix(present)
                    + "input_layernorm.weight' is missing)");
        }
    }

    private static String layerPrefix(int i) {
        return "encoder.layers." + i + ".";
    }

    /**
     * Binds as {@link #bind(ChatGLMConfig, TensorSource)}, then, if {@code quant} is not null, quantizes the four
     * linear matrices of every layer to {@code quant} and the output layer to Q8_0 (close to F16 in quality at half
     * its bytes) with {@code quantizer}, which owns the new matrices; the embedding keeps its stored type since only
     * single rows of it are read. An output layer that is already quantized is kept; layer matrices that are
     * already quantized are an error, as is a column count that is not a multiple of the block size.
     */
    public static ChatGLMWeights bind(ChatGLMConfig c, TensorSource source, TensorType quant, MatrixQuantizer quantizer) {
        ChatGLMWeights stored = bind(c, source);
        if (quant == null) {
            return stored;
        }
        List<String> names = new ArrayList<>(stored.matrices().keySet());
        names.removeFirst(); // the embedding, which replaceMatrices leaves alone
        return stored.replaceMatrices(matrices -> {
            List<MatrixQuantizer.Job> jobs = new ArrayList<>();
            List<Integer> positions = new ArrayList<>();
            for (int i = 0; i < matrices.size(); i++) {
                WeightMatrix m = matrices.get(i);
                boolean isOutput = m == stored.output;
                if (isOutput && m.type().isQuantized()) {
                    continue;
                }
                if (m.type().isQuantized()) {
                    throw new ModelFormatException(source.location(), "cannot quantize to " + quant + ": the weights are already quantized ('"
                            + names.get(i) + "' is " + m.type() + "); load them without a quantization type");
                }
                jobs.add(new MatrixQuantizer.Job(names.get(i), m, isOutput ? TensorType.Q8_0 : quant));
                positions.add(i);
            }
            List<WeightMatrix> q;
            try {
                q = quantizer.quantize(jobs);
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(source.location(), e.getMessage(), e);
            }
            List<WeightMatrix> out = new ArrayList<>(matrices);
            for (int j = 0; j < q.size(); j++) {
                out.set(positions.get(j), q.get(j));
            }
            return out;
        });
    }

    /**
     * These weights with every layer matrix and the output layer replaced by {@code f} of it (in the order of
     * {@link #matrices()}, embedding excluded: only single rows of it are read). {@code f} returns one matrix per
     * input, of the same shape.
     */
    public ChatGLMWeights replaceMatrices(java.util.function.UnaryOperator<List<WeightMatrix>> f) {
        List<WeightMatrix> in = new ArrayList<>(matrices().values());
        in.removeFirst();
        List<WeightMatrix> out = f.apply(in);
        if (out.size() != in.size()) {
            throw new IllegalStateException("expected " + in.size() + " matrices, got " + out.size());
        }
        for (int i = 0; i < in.size(); i++) {
            if (out.get(i).rows() != in.get(i).rows() || out.get(i).cols() != in.get(i).cols()) {
                throw new IllegalStateException(out.get(i) + " replaces " + in.get(i) + ": not the same shape");
            }
        }
        var it = out.iterator();
        LayerWeights[] replaced = new LayerWeights[layers.length];
        for (int i = 0; i < layers.length; i++) {
            LayerWeights l = layers[i];
            replaced[i] = new LayerWeights(l.inputNorm(), it.next(), l.qkvBias(), it.next(), l.postNorm(), it.next(), it.next());
        }
        return new ChatGLMWeights(embedding, replaced, finalNorm, it.next());
    }

    /** Every matrix by its checkpoint name, in file order: the embedding, each layer's four, the output layer. */
    public Map<String, WeightMatrix> matrices() {
        Map<String, WeightMatrix> m = new LinkedHashMap<>();
        m.put(PREFIX + EMBEDDING, embedding);
        for (int i = 0; i < layers.length; i++) {
            String p = PREFIX + layerPrefix(i);
            m.put(p + QKV, layers[i].qkv());
            m.put(p + DENSE, layers[i].dense());
            m.put(p + H_TO_4H, layers[i].hTo4h());
            m.put(p + FOUR_H_TO_H, layers[i].fourHToH());
        }
        m.put(PREFIX + OUTPUT, output);
        return Collections.unmodifiableMap(m);
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
        boolean repacked = Arrays.stream(layers).anyMatch(l -> l.qkv().isRegrouped());
        return (bytes.size() == 1 ? main.name() : main.name() + " mix") + (repacked ? " repacked" : "");
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
