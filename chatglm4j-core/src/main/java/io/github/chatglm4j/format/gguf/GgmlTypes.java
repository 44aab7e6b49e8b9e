package io.github.chatglm4j.format.gguf;

import io.github.chatglm4j.tensor.TensorType;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/** Names of ggml tensor type ids, so that a file with a type the engine cannot read gets a helpful message. */
final class GgmlTypes {
    /** The ggml types the engine does not read (the others are named by {@link TensorType}). */
    private static final Map<Integer, String> UNSUPPORTED = Map.ofEntries(
            Map.entry(9, "Q8_1"), Map.entry(15, "Q8_K"), Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"),
            Map.entry(18, "IQ3_XXS"), Map.entry(19, "IQ1_S"), Map.entry(21, "IQ3_S"), Map.entry(22, "IQ2_S"),
            Map.entry(24, "I8"), Map.entry(25, "I16"), Map.entry(26, "I32"), Map.entry(27, "I64"), Map.entry(28, "F64"),
            Map.entry(29, "IQ1_M"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"));

    private GgmlTypes() {
    }

    /** "ggml type 16 (IQ2_XXS)" or "ggml type 99 (unknown)". */
    static String describe(long id) {
        String name = id >= 0 && id <= Integer.MAX_VALUE ? name((int) id) : null;
        return "ggml type " + id + " (" + (name == null ? "unknown" : name) + ")";
    }

    private static String name(int id) {
        return TensorType.fromGgmlId(id).map(Enum::name).orElse(UNSUPPORTED.get(id));
    }

    static String supported() {
        return Arrays.stream(TensorType.values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
