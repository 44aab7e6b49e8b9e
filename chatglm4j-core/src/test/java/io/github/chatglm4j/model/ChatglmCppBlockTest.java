package io.github.chatglm4j.model;

import io.github.chatglm4j.format.TensorEntry;
import io.github.chatglm4j.format.TensorSource;
import io.github.chatglm4j.tensor.Parallel;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

/**
 * A second, independent oracle: chatglm.cpp's ChatGLM3 block test data (generated with the official PyTorch code),
 * a one-layer model with 8 heads of dimension 4 and 2 KV groups: prefill of three tokens, then two cached steps.
 */
class ChatglmCppBlockTest {
    private static final int HIDDEN = 32;
    private static final float TOLERANCE = 5e-4f; // the tolerance chatglm.cpp uses for this data

    @Test
    void prefillAndTwoDecodeStepsMatchChatglmCpp() throws Exception {
        Path file = Fixtures.root().resolve("chatglm-cpp/glm3_model.data");
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        ChatGLMConfig config = new ChatGLMConfig(1, HIDDEN, 48, 8, 4, 2, 5, 64, 1e-5f, 1f);
        try (Arena arena = Arena.ofConfined(); Parallel pool = Parallel.create(1)) {
            List<TensorEntry> tensors = new ArrayList<>();
            String p = "transformer.encoder.layers.0.";
            tensors.add(f32(arena, raw, file, "transformer.embedding.word_embeddings.weight", 0, 5, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "input_layernorm.weight", 640, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "self_attention.query_key_value.weight", 768, 48, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "self_attention.query_key_value.bias", 6912, 48));
            tensors.add(f32(arena, raw, file, p + "self_attention.dense.weight", 7104, HIDDEN, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "post_attention_layernorm.weight", 11200, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "mlp.dense_h_to_4h.weight", 11328, 96, HIDDEN));
            tensors.add(f32(arena, raw, file, p + "mlp.dense_4h_to_h.weight", 23616, HIDDEN, 48));
            tensors.add(f32(arena, raw, file, "transformer.encoder.final_layernorm.weight", 29760, HIDDEN));
            // chatglm.cpp's test has no output layer; any [vocab, hidden] matrix satisfies the binder.
            tensors.add(f32(arena, raw, file, "transformer.output_layer.weight", 0, 5, HIDDEN));
            ChatGLMModel model = new ChatGLMModel(config, ChatGLMWeights.bind(config, new ListSource(tensors, file)), pool);

            KvCache cache = new KvCache(config, 8, KvType.F32);
            float[] y1 = model.forward(cache, ints(raw, 29888, 3), null);
            assertThat(y1).as("final-norm states of ids 0,1,2").containsExactly(floats(raw, 29900, 3 * HIDDEN), offset(TOLERANCE));
            float[] y2 = model.forward(cache, ints(raw, 30284, 1), null);
            assertThat(y2).as("id 3 at position 3 through the cache").containsExactly(floats(raw, 30288, HIDDEN), offset(TOLERANCE));
            float[] y3 = model.forward(cache, ints(raw, 30416, 1), null);
            assertThat(y3).as("id 4 at position 4 through the cache").containsExactly(floats(raw, 30420, HIDDEN), offset(TOLERANCE));
        }
    }

    private static TensorEntry f32(Arena arena, ByteBuffer raw, Path file, String name, int offset, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        MemorySegment seg = arena.allocate(n * 4, 64);
        for (int i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, raw.getFloat(offset + 4 * i));
        }
        return new TensorEntry(name, TensorType.F32, shape, seg, file);
    }

    private static int[] ints(ByteBuffer raw, int offset, int n) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = raw.getInt(offset + 4 * i);
        }
        return v;
    }

    private static float[] floats(ByteBuffer raw, int offset, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = raw.getFloat(offset + 4 * i);
        }
        return v;
    }

    private record ListSource(List<TensorEntry> list, Path location) implements TensorSource {
        @Override
        public Optional<TensorEntry> tensor(String name) {
            return list.stream().filter(t -> t.name().equals(name)).findFirst();
        }

        @Override
        public List<TensorEntry> tensors() {
            return list;
        }

        @Override
        public String description() {
            return location.toString();
        }

        @Override
        public void close() {
        }
    }
}
