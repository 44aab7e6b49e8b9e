package io.github.chatglm4j.format.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A deliberately minimal, test-only safetensors reader used as an independent oracle: an 8-byte little-endian
 * header length, a JSON header of {@code name -> {dtype, shape, data_offsets}}, then the raw data.
 */
final class SafetensorsOracle {

    record Tensor(String name, String dtype, long[] shape, byte[] data) {
    }

    private SafetensorsOracle() {
    }

    static Map<String, Tensor> read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int dataStart = Math.toIntExact(8 + headerLength);
        JsonNode header = new ObjectMapper().readTree(Arrays.copyOfRange(bytes, 8, dataStart));
        var result = new LinkedHashMap<String, Tensor>();
        for (var field : header.properties()) {
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode info = field.getValue();
            long[] shape = new long[info.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = info.get("shape").get(i).asLong();
            }
            int begin = dataStart + info.get("data_offsets").get(0).asInt();
            int end = dataStart + info.get("data_offsets").get(1).asInt();
            result.put(field.getKey(), new Tensor(field.getKey(), info.get("dtype").asText(), shape,
                    Arrays.copyOfRange(bytes, begin, end)));
        }
        return result;
    }
}
