package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.SafeFiles;
import io.github.chatglm4j.format.safetensors.SafetensorsWriter.TensorSpec;
import io.github.chatglm4j.format.safetensors.SafetensorsWriter;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a complete Hugging Face style ChatGLM3 directory with random weights (config.json, tokenizer.model, F16 or
 * BF16 safetensors shards and their index), for benchmarks and tests where real weights cannot be downloaded.
 * Matrices are uniform in ±{@code 0.04}, norm weights 1, biases small, so activations stay in a realistic range.
 */
public final class RandomCheckpointWriter {
    private static final long SHARD_BYTES = 2L << 30;

    private RandomCheckpointWriter() {
    }

    /**
     * @param configJson the config.json to use (its sizes decide the tensor shapes)
     * @param tokenizer  a tokenizer.model to copy next to it
     */
    public static void write(Path dir, Path configJson, Path tokenizer, TensorType type, long seed, LoadProgress progress) throws IOException {
        if (type != TensorType.F16 && type != TensorType.BF16 && type != TensorType.F32) {
            throw new IllegalArgumentException("random checkpoints are written as F16, BF16 or F32, not " + type);
        }
        ChatGLMConfig c = ChatGLMConfig.read(configJson);
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(configJson.toFile());
        config.put("torch_dtype", type == TensorType.BF16 ? "bfloat16" : type == TensorType.F16 ? "float16" : "float32");
        SafeFiles.write(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config), true);
        SafeFiles.copy(tokenizer, dir.resolve("tokenizer.model"), true);

        List<TensorSpec> all = specs(c, type);
        List<List<TensorSpec>> shards = new ArrayList<>();
        long size = SHARD_BYTES;
        long total = 0;
        for (TensorSpec t : all) {
            if (size + t.byteSize() > SHARD_BYTES && size > 0) {
                shards.add(new ArrayList<>());
                size = 0;
            }
            shards.getLast().add(t);
            size += t.byteSize();
            total += t.byteSize();
        }
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        long[] done = {0};
        long finalTotal = total;
        SplittableRandom random = new SplittableRandom(seed);
        progress.update("writing", 0, total);
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            for (TensorSpec t : shards.get(i)) {
                map.put(t.name(), name);
            }
            SafetensorsWriter.write(dir.resolve(name), shards.get(i), Map.of("format", "pt"), (spec, out) -> {
                fill(spec, out, random);
                done[0] += spec.byteSize();
                progress.update("writing", done[0], finalTotal);
            });
        }
        SafeFiles.write(dir.resolve("model.safetensors.index.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(index), true);
    }

    static List<TensorSpec> specs(ChatGLMConfig c, TensorType type) {
        String p = "transformer.";
        List<TensorSpec> specs = new ArrayList<>();
        specs.add(new TensorSpec(p + "embedding.word_embeddings.weight", type, new long[]{c.vocabSize(), c.hiddenSize()}));
        for (int l = 0; l < c.numLayers(); l++) {
            String q = p + "encoder.layers." + l + ".";
            specs.add(new TensorSpec(q + "input_layernorm.weight", type, new long[]{c.hiddenSize()}));
            specs.add(new TensorSpec(q + "self_attention.query_key_value.weight", type, new long[]{c.qkvSize(), c.hiddenSize()}));
            specs.add(new TensorSpec(q + "self_attention.query_key_value.bias", type, new long[]{c.qkvSize()}));
            specs.add(new TensorSpec(q + "self_attention.dense.weight", type, new long[]{c.hiddenSize(), (long) c.numHeads() * c.headDim()}));
            specs.add(new TensorSpec(q + "post_attention_layernorm.weight", type, new long[]{c.hiddenSize()}));
            specs.add(new TensorSpec(q + "mlp.dense_h_to_4h.weight", type, new long[]{2L * c.ffnHiddenSize(), c.hiddenSize()}));
            specs.add(new TensorSpec(q + "mlp.dense_4h_to_h.weight", type, new long[]{c.hiddenSize(), c.ffnHiddenSize()}));
        }
        specs.add(new TensorSpec(p + "encoder.final_layernorm.weight", type, new long[]{c.hiddenSize()}));
        specs.add(new TensorSpec(p + "output_layer.weight", type, new long[]{c.vocabSize(), c.hiddenSize()}));
        return specs;
    }

    private static void fill(TensorSpec spec, WritableByteChannel out, SplittableRandom random) throws IOException {
        boolean norm = spec.name().endsWith("layernorm.weight");
        float range = norm ? 0f : spec.name().endsWith(".bias") ? 0.01f : 0.04f;
        int width = spec.type().bytesPerBlock();
        // A palette of random values, indexed by random bits: fast enough to write 12 GB in well under a minute.
        float[] palette = new float[4096];
        for (int i = 0; i < palette.length; i++) {
            palette[i] = norm ? 1f : (float) ((random.nextDouble() * 2 - 1) * range);
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        long remaining = spec.elementCount();
        while (remaining > 0) {
            buf.clear();
            int n = (int) Math.min(remaining, buf.capacity() / width);
            long bits = 0;
            for (int i = 0; i < n; i++) {
                if (i % 5 == 0) {
                    bits = random.nextLong();
                }
                float v = palette[(int) (bits & 4095)];
                bits >>>= 12;
                switch (spec.type()) {
                    case F16 -> buf.putShort(Float.floatToFloat16(v));
                    case BF16 -> buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                    default -> buf.putFloat(v);
                }
            }
            buf.flip();
            while (buf.hasRemaining()) {
                out.write(buf);
            }
            remaining -= n;
        }
    }
}
