package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded request fuzzing (issue 10, items 1, 2 and 5): thousands of bodies built from the OpenAI request schema,
 * then mutated (wrong types, extreme numbers such as 1e-46 and 2147483647, deep nesting, huge strings, odd unicode,
 * nulls, truncated and corrupted bytes), sent to every POST endpoint by several clients at once. Every answer must be
 * a 2xx or an OpenAI-style 4xx; a 5xx fails the test with the body that caused it (re-run with the printed seed).
 */
class RequestFuzzTest {
    static final long SEED = Long.getLong("chatglm.fuzz.seed", 0x5EEDL);
    static final int BODIES = Integer.getInteger("chatglm.fuzz.bodies", 4000);
    static final JsonNodeFactory N = JsonNodeFactory.instance;
    /** Writes bodies nested deeper than Jackson's own default limit, as an attacker would. */
    static final com.fasterxml.jackson.databind.ObjectMapper WRITER = com.fasterxml.jackson.databind.json.JsonMapper.builder(
            com.fasterxml.jackson.core.JsonFactory.builder().streamWriteConstraints(
                    com.fasterxml.jackson.core.StreamWriteConstraints.builder().maxNestingDepth(100_000).build()).build()).build();
    static Harness h;

    @BeforeAll
    static void start() {
        // one short reply to every prompt (chat, completion or anything else): the server's paths are under test here
        int[] reply = Harness.textReply("Hello there", io.github.chatglm4j.tokenizer.ChatGLMTokenizer.EOS);
        h = new Harness(ScriptedModel.replying(256, ScriptedModel.fixed(reply)), 2, 64, ServerOptions.local(0).withMaxBodyBytes(1 << 20));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void everyFuzzedBodyGetsA2xxOrAnOpenAiStyle4xx() throws Exception {
        String[] paths = {"/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"};
        List<Future<String>> results = new ArrayList<>();
        List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService clients = Executors.newFixedThreadPool(4)) {
            for (int i = 0; i < BODIES; i++) {
                var random = new SplittableRandom(SEED + i);
                String path = paths[random.nextInt(paths.length)];
                byte[] body = body(path, random);
                int index = i;
                results.add(clients.submit(() -> {
                    HttpResponse<String> r = h.http.send(HttpRequest.newBuilder(URI.create(h.base() + path))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json").build(),
                            HttpResponse.BodyHandlers.ofString());
                    statuses.add(r.statusCode());
                    return check(r, "body #" + index + " (seed " + (SEED + index) + ") to " + path + ": "
                            + preview(new String(body, StandardCharsets.UTF_8)));
                }));
            }
            for (Future<String> f : results) {
                String problem = f.get();
                assertThat(problem).isNull();
            }
        }
        assertThat(statuses).hasSize(BODIES);
        assertThat(statuses).as("the fuzzer reaches generation, not only validation").contains(200);
        assertThat(statuses).as("and the validation").contains(400);
    }

    /** Null if the response is acceptable, else what was wrong. */
    static String check(HttpResponse<String> r, String what) throws Exception {
        int s = r.statusCode();
        if (s >= 500 || s < 200 || s >= 300 && s < 400) {
            return what + " -> " + s + " " + r.body();
        }
        if (s >= 400) {
            JsonNode error = Harness.JSON.readTree(r.body()).get("error");
            if (error == null || !error.has("message") || !error.has("type") || !error.has("param") || !error.has("code")
                    || r.body().contains("Exception")) {
                return what + " -> " + s + " without OpenAI's error object: " + r.body();
            }
            return null;
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (type.startsWith("text/event-stream")) {
            List<String> events = Harness.events(r.body());
            if (!events.getLast().equals("[DONE]")) {
                return what + " -> a stream without [DONE]: " + r.body();
            }
            for (String e : events.subList(0, events.size() - 1)) {
                if (Harness.JSON.readTree(e).has("error")) {
                    return what + " -> an error in the stream: " + e;
                }
            }
        } else {
            Harness.JSON.readTree(r.body());
        }
        return null;
    }

    static byte[] body(String path, SplittableRandom r) {
        ObjectNode request = switch (path) {
            case "/v1/completions" -> completion(r);
            case "/tokenize" -> r.nextBoolean() ? N.objectNode().put("content", text(r)) : N.objectNode().set("messages", messages(r));
            case "/detokenize" -> N.objectNode().set("tokens", ids(r));
            default -> chat(r);
        };
        int mutations = r.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            mutate(request, r);
        }
        byte[] bytes;
        try {
            bytes = WRITER.writeValueAsBytes(request);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return switch (r.nextInt(20)) {
            case 0 -> java.util.Arrays.copyOf(bytes, r.nextInt(bytes.length + 1)); // truncated
            case 1 -> {
                byte[] b = bytes.clone();
                b[r.nextInt(b.length)] = (byte) r.nextInt(256); // one byte corrupted (maybe invalid UTF-8)
                yield b;
            }
            default -> bytes;
        };
    }

    static ObjectNode chat(SplittableRandom r) {
        ObjectNode o = N.objectNode();
        if (r.nextInt(4) == 0) {
            o.put("model", r.nextBoolean() ? Harness.MODEL : "gpt-4o");
        }
        o.set("messages", messages(r));
        if (r.nextInt(3) == 0) {
            o.set("tools", tools(r));
            if (r.nextBoolean()) {
                o.set("tool_choice", r.nextBoolean() ? N.textNode(pick(r, "auto", "none", "required", "bogus"))
                        : N.objectNode().put("type", "function").set("function", N.objectNode().put("name", pick(r, "get_weather", "f", "nope"))));
            }
        }
        sampling(o, r);
        return o;
    }

    static ObjectNode completion(SplittableRandom r) {
        ObjectNode o = N.objectNode();
        o.set("prompt", switch (r.nextInt(4)) {
            case 0 -> ids(r);
            case 1 -> N.arrayNode().add(text(r));
            default -> N.textNode(text(r));
        });
        if (r.nextInt(4) == 0) {
            o.put("echo", r.nextBoolean());
        }
        sampling(o, r);
        return o;
    }

    static void sampling(ObjectNode o, SplittableRandom r) {
        String[] numbers = {"temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty", "repetition_penalty",
                "max_tokens", "max_completion_tokens", "n", "top_logprobs"};
        for (String name : numbers) {
            if (r.nextInt(3) == 0) {
                o.set(name, number(r));
            }
        }
        if (!o.has("max_tokens") && r.nextBoolean()) {
            o.put("max_tokens", 1 + r.nextInt(8));
        }
        if (r.nextInt(3) == 0) {
            o.put("stream", r.nextBoolean());
            if (r.nextBoolean()) {
                o.set("stream_options", N.objectNode().put("include_usage", r.nextBoolean()));
            }
        }
        if (r.nextInt(4) == 0) {
            o.set("stop", r.nextBoolean() ? N.textNode(text(r)) : N.arrayNode().add(text(r)).add(text(r)));
        }
        if (r.nextInt(8) == 0) {
            o.set("response_format", N.objectNode().put("type", pick(r, "text", "json_object", "json_schema", "xml")));
        }
        if (r.nextInt(10) == 0) {
            o.put("logprobs", r.nextBoolean());
        }
        if (r.nextInt(10) == 0) {
            o.set("logit_bias", r.nextBoolean() ? N.objectNode() : N.objectNode().put("13", 5));
        }
        if (r.nextInt(6) == 0) {
            o.put(pick(r, "user", "store", "metadata", "service_tier"), text(r)); // unknown fields are ignored
        }
    }

    static ArrayNode messages(SplittableRandom r) {
        ArrayNode a = N.arrayNode();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            ObjectNode m = a.addObject();
            String role = pick(r, "system", "user", "user", "assistant", "tool", "developer", "function", "wizard");
            m.put("role", role);
            switch (r.nextInt(6)) {
                case 0 -> m.putNull("content");
                case 1 -> m.putArray("content").addObject().put("type", pick(r, "text", "refusal", "image_url")).put("text", text(r));
                default -> m.put("content", text(r));
            }
            if (role.equals("assistant") && r.nextInt(3) == 0) {
                ObjectNode fn = m.putArray("tool_calls").addObject().put("id", "call_1").put("type", "function").putObject("function");
                fn.put("name", pick(r, "get_weather", "interpreter", "", "a b"));
                fn.put("arguments", pick(r, "{\"city\": \"Beijing\"}", "{\"code\": \"print(1)\"}", "{oops", "[]", "", "{\"a\": [1, {\"b\": null}]}"));
            }
        }
        return a;
    }

    static ArrayNode tools(SplittableRandom r) {
        ArrayNode a = N.arrayNode();
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            ObjectNode fn = a.addObject().put("type", "function").putObject("function");
            fn.put("name", pick(r, "get_weather", "interpreter", "f" + i, "bad name", ""));
            fn.put("description", text(r));
            ObjectNode params = fn.putObject("parameters").put("type", "object");
            params.putObject("properties").set("city", nested(r, r.nextInt(8) == 0 ? 40 + r.nextInt(850) : r.nextInt(6)));
        }
        return a;
    }

    /** A schema nested {@code depth} levels (the CPU amplification of item 2 at the deep end). */
    static JsonNode nested(SplittableRandom r, int depth) {
        JsonNode node = N.objectNode().put("type", "string");
        for (int d = 0; d < depth; d++) {
            node = r.nextBoolean() ? N.objectNode().put("type", "object").set("properties", N.objectNode().set("x", node))
                    : N.arrayNode().add(node);
        }
        return node;
    }

    static ArrayNode ids(SplittableRandom r) {
        ArrayNode a = N.arrayNode();
        int n = r.nextInt(12);
        for (int i = 0; i < n; i++) {
            a.add(r.nextInt(8) == 0 ? number(r) : N.numberNode(r.nextInt(70000)));
        }
        return a;
    }

    static String text(SplittableRandom r) {
        return switch (r.nextInt(12)) {
            case 0 -> "";
            case 1 -> "x".repeat(r.nextInt(200_000)); // huge
            case 2 -> "\ud800 lone surrogate \udc00";
            case 3 -> "你好，世界 🌍 \u0000 \u202e rtl \t\r\n";
            case 4 -> "<|user|> [gMASK] sop <|assistant|> <|observation|>";
            case 5 -> "word ".repeat(r.nextInt(400));
            default -> pick(r, "hi", "What's the weather in Beijing?", "Count to five", "Please compute 2 ** 100");
        };
    }

    static JsonNode number(SplittableRandom r) {
        return switch (r.nextInt(16)) {
            case 0 -> N.numberNode(1e-46);
            case 1 -> N.numberNode(-1e-46);
            case 2 -> N.numberNode(7e-46);
            case 3 -> N.numberNode(Integer.MAX_VALUE);
            case 4 -> N.numberNode(Integer.MIN_VALUE);
            case 5 -> N.numberNode(Long.MAX_VALUE);
            case 6 -> N.numberNode(1e308);
            case 7 -> N.numberNode(new java.math.BigDecimal("1e400"));
            case 8 -> N.numberNode(-0.0);
            case 9 -> N.numberNode(new java.math.BigInteger("99999999999999999999999999"));
            case 10 -> N.textNode("0.5");
            case 11 -> N.nullNode();
            case 12 -> N.booleanNode(true);
            case 13 -> N.numberNode(r.nextDouble() * 4 - 2);
            default -> N.numberNode(r.nextInt(10));
        };
    }

    /** Replaces, removes or adds a value somewhere in the tree. */
    static void mutate(ObjectNode root, SplittableRandom r) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode target = containers.get(r.nextInt(containers.size()));
        JsonNode value = switch (r.nextInt(8)) {
            case 0 -> number(r);
            case 1 -> N.textNode(text(r));
            case 2 -> N.arrayNode();
            case 3 -> N.objectNode();
            case 4 -> nested(r, r.nextInt(70));
            case 5 -> N.nullNode();
            default -> N.booleanNode(r.nextBoolean());
        };
        if (target instanceof ObjectNode o && !o.isEmpty()) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            String name = names.get(r.nextInt(names.size()));
            if (r.nextInt(4) == 0) {
                o.remove(name);
            } else {
                o.set(name, value);
            }
        } else if (target instanceof ArrayNode a && !a.isEmpty()) {
            a.set(r.nextInt(a.size()), value);
        } else if (target instanceof ObjectNode o) {
            o.set("extra", value);
        }
    }

    private static void collect(JsonNode node, List<JsonNode> out) {
        if (node.isContainerNode()) {
            out.add(node);
            for (JsonNode child : node) {
                collect(child, out);
            }
        }
    }

    private static String pick(SplittableRandom r, String... options) {
        return options[r.nextInt(options.length)];
    }

    private static String preview(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "... (" + s.length() + " chars)";
    }
}
