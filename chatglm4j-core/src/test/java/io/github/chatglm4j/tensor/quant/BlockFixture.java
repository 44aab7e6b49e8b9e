package io.github.chatglm4j.tensor.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.chatglm4j.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;

/**
 * {@code quant/ggml-blocks.safetensors}: the ggml reference quantizers' inputs and bytes, and llama.cpp-made blocks
 * with their dequantized values. Read with a minimal parser of its own because the blocks are stored as U8, which
 * the engine's reader (weights only) does not accept.
 */
final class BlockFixture {
    private static BlockFixture instance;

    private final byte[] file;
    private final JsonNode header;
    private final int dataStart;

    private BlockFixture() {
        try {
            file = Files.readAllBytes(Fixtures.root().resolve("quant/ggml-blocks.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int headerLen = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        try {
            header = new ObjectMapper().readTree(new String(file, 8, headerLen, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        dataStart = 8 + headerLen;
    }

    static synchronized BlockFixture get() {
        if (instance == null) {
            instance = new BlockFixture();
        }
        return instance;
    }

    byte[] bytes(String name) {
        return slice(name, "U8");
    }

    float[] floats(String name) {
        byte[] raw = slice(name, "F32");
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    int[] shape(String name) {
        JsonNode s = info(name).get("shape");
        int[] shape = new int[s.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = s.get(i).asInt();
        }
        return shape;
    }

    private byte[] slice(String name, String dtype) {
        JsonNode info = info(name);
        if (!info.get("dtype").asText().equals(dtype)) {
            throw new IllegalArgumentException(name + " is " + info.get("dtype") + ", not " + dtype);
        }
        int begin = info.get("data_offsets").get(0).asInt();
        int end = info.get("data_offsets").get(1).asInt();
        return Arrays.copyOfRange(file, dataStart + begin, dataStart + end);
    }

    private JsonNode info(String name) {
        JsonNode n = header.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no tensor " + name + " in ggml-blocks.safetensors");
        }
        return n;
    }
}
