package io.github.chatglm4j.checkpoint;

import io.github.chatglm4j.checkpoint.GgufModelWriter;
import io.github.chatglm4j.checkpoint.GgufVocabulary;
import io.github.chatglm4j.format.LoadProgress;
import io.github.chatglm4j.format.gguf.GgufValue;
import io.github.chatglm4j.format.gguf.GgufWriter;
import io.github.chatglm4j.model.ChatGLMConfig;
import io.github.chatglm4j.tensor.TensorType;
import io.github.chatglm4j.tokenizer.TokenizerFixtures;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** A one-layer ChatGLM3 with hidden size 8 and the real vocabulary: a complete model file of about 3 MB. */
final class MicroModel {
    static final ChatGLMConfig CONFIG = new ChatGLMConfig(1, 8, 8, 2, 4, 1, 65024, 64, 1e-5f, 1f);
    private static GgufVocabulary vocabulary;

    private MicroModel() {
    }

    static synchronized GgufVocabulary vocabulary() {
        if (vocabulary == null) {
            vocabulary = GgufVocabulary.of(TokenizerFixtures.tokenizer(), CONFIG.vocabSize());
        }
        return vocabulary;
    }

    static Map<String, GgufValue> metadata() {
        return new LinkedHashMap<>(GgufModelWriter.metadata(CONFIG, vocabulary(), "micro", 1, GgufModelWriter.CHAT_TEMPLATE));
    }

    static List<GgufWriter.TensorSpec> tensors() {
        var out = new ArrayList<GgufWriter.TensorSpec>();
        for (var t : GgufModelWriter.plan(CONFIG, GgufModelWriter.TypePolicy.uniform(TensorType.F16))) {
            out.add(new GgufWriter.TensorSpec(t.name(), t.type(), t.ne()));
        }
        return out;
    }

    /** Writes a model file with small random weights (norm weights near 1). */
    static Path write(Path out, Map<String, GgufValue> metadata, List<GgufWriter.TensorSpec> tensors) throws IOException {
        var random = new SplittableRandom(3);
        try (GgufWriter w = GgufWriter.create(out, metadata, tensors, true)) {
            for (var t : tensors) {
                fill(t.name(), t.type(), w.tensor(t.name()), random);
            }
            w.finish();
        }
        return out;
    }

    static Path write(Path out) throws IOException {
        return write(out, metadata(), tensors());
    }

    /** The same model through the public random-source API. */
    static Path writeWithModelWriter(Path out, TensorType type, LoadProgress progress) throws IOException {
        var random = new SplittableRandom(3);
        GgufModelWriter.write(out, CONFIG, vocabulary(), "micro", GgufModelWriter.TypePolicy.uniform(type),
                (t, dst) -> fill(t.name(), t.type(), dst, random), progress, false);
        return out;
    }

    static void fill(String name, TensorType type, MemorySegment dst, SplittableRandom random) {
        boolean norm = name.endsWith("norm.weight");
        switch (type) {
            case F32 -> {
                for (long i = 0; i < dst.byteSize() / 4; i++) {
                    float v = norm ? 1f + (float) random.nextGaussian() * 0.1f : (float) random.nextGaussian() * 0.5f;
                    dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4 * i, v);
                }
            }
            case F16 -> {
                for (long i = 0; i < dst.byteSize() / 2; i++) {
                    dst.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 * i,
                            Float.floatToFloat16((float) random.nextGaussian() * 0.5f));
                }
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
    }
}
