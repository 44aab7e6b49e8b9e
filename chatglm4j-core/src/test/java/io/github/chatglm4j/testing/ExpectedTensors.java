package io.github.chatglm4j.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the reference outputs in {@code expected.safetensors} (F32 and I32 tensors) with its own minimal parser,
 * independent of the engine's safetensors reader.
 */
public final class ExpectedTensors {
    private final ByteBuffer data;
    private final JsonNode header;
    private final int dataStart;

    public ExpectedTensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) buf.getLong(0);
        header = new ObjectMapper().readTree(new String(all, 8, headerLen, StandardCharsets.UTF_8));
        dataStart = 8 + headerLen;
        data = buf;
    }

    public int[] shape(String name) {
        JsonNode s = info(name).get("shape");
        int[] shape = new int[s.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = s.get(i).asInt();
        }
        return shape;
    }

    public float[] floats(String name) {
        JsonNode info = info(name);
        if (!info.get("dtype").asText().equals("F32")) {
            throw new IllegalArgumentException(name + " is " + info.get("dtype"));
        }
        int begin = info.get("data_offsets").get(0).asInt();
        int end = info.get("data_offsets").get(1).asInt();
        float[] out = new float[(end - begin) / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.getFloat(dataStart + begin + 4 * i);
        }
        return out;
    }

    public int[] ints(String name) {
        JsonNode info = info(name);
        if (!info.get("dtype").asText().equals("I32")) {
            throw new IllegalArgumentException(name + " is " + info.get("dtype"));
        }
        int begin = info.get("data_offsets").get(0).asInt();
        int end = info.get("data_offsets").get(1).asInt();
        int[] out = new int[(end - begin) / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.getInt(dataStart + begin + 4 * i);
        }
        return out;
    }

    private JsonNode info(String name) {
        JsonNode n = header.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no tensor " + name + " in expected.safetensors");
        }
        return n;
    }
}
