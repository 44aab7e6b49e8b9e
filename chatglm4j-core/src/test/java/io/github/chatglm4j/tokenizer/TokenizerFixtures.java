package io.github.chatglm4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The reference tokenizer fixtures ({@code fixtures/tokenizer}), loaded once per test JVM. */
public final class TokenizerFixtures {
    private static ChatGLMTokenizer tokenizer;
    private static JsonNode cases;

    private TokenizerFixtures() {
    }

    public static Path dir() {
        String root = System.getProperty("chatglm.fixtures");
        if (root == null) {
            throw new IllegalStateException("system property chatglm.fixtures is not set (surefire sets it)");
        }
        return Path.of(root, "tokenizer");
    }

    public static Path modelFile() {
        return dir().resolve("tokenizer.model");
    }

    public static synchronized ChatGLMTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ChatGLMTokenizer.load(modelFile());
        }
        return tokenizer;
    }

    public static synchronized JsonNode cases() {
        if (cases == null) {
            try {
                cases = new ObjectMapper().readTree(dir().resolve("cases.json").toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cases;
    }

    public static List<JsonNode> texts() {
        return list(cases().get("texts"));
    }

    public static List<JsonNode> chats() {
        return list(cases().get("chats"));
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    public static List<String> strings(JsonNode array) {
        var out = new ArrayList<String>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<JsonNode> list(JsonNode array) {
        var out = new ArrayList<JsonNode>();
        array.forEach(out::add);
        return out;
    }
}
