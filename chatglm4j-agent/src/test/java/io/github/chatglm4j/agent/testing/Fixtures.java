package io.github.chatglm4j.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The shared fixtures (through core's test helpers) as the agent tests use them, and CPython's answers. */
public final class Fixtures {
    private static ChatGLMTokenizer tokenizer;
    private static JsonNode cases;
    private static JsonNode oracle;

    private Fixtures() {
    }

    public static Path root() {
        return io.github.chatglm4j.testing.Fixtures.root();
    }

    public static synchronized ChatGLMTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ChatGLMTokenizer.load(root().resolve("tokenizer/tokenizer.model"));
        }
        return tokenizer;
    }

    /** The reference's {@code build_chat_input} cases ({@code chats}) with their exact ids. */
    public static synchronized JsonNode chats() {
        if (cases == null) {
            cases = read(root().resolve("tokenizer/cases.json"));
        }
        return cases.get("chats");
    }

    /** CPython's answers, made by src/test/python/make_tool_oracle.py. */
    public static synchronized JsonNode pythonOracle() {
        if (oracle == null) {
            try (InputStream in = Fixtures.class.getResourceAsStream("/io/github/chatglm4j/agent/tool/python-oracle.json")) {
                oracle = new ObjectMapper().readTree(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return oracle;
    }

    public static int[] ints(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    private static JsonNode read(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
