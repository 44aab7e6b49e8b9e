package io.github.chatglm4j.server;

import io.github.chatglm4j.chat.PromptBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.server.chat.ChatRequest;
import io.github.chatglm4j.server.chat.Fields;
import io.github.chatglm4j.server.chat.InvalidRequestException;
import io.github.chatglm4j.server.chat.RequestJson;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.io.IOException;
import java.util.UUID;

/** The small endpoints (models, health, metrics, tokenize, detokenize) and helpers shared by all of them. */
final class Endpoints {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Endpoints() {
    }

    static String newId(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "");
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** An unknown model is a 404, as OpenAI answers; an absent one means the served model. */
    static void checkModel(String requested, Backend backend) {
        if (requested != null && !requested.equals(backend.modelId())) {
            throw ErrorResponses.unknownModel(requested, backend.modelId());
        }
    }

    static ObjectNode model(Backend backend) {
        ObjectNode m = NODES.objectNode();
        m.put("id", backend.modelId());
        m.put("object", "model");
        m.put("created", backend.created());
        m.put("owned_by", "chatglm4j");
        return m;
    }

    static void models(Exchange ex, Backend backend) throws IOException {
        ObjectNode root = NODES.objectNode();
        root.put("object", "list");
        root.putArray("data").add(model(backend));
        ex.json(200, root);
    }

    static void model(Exchange ex, Backend backend, String id) throws IOException {
        if (!id.equals(backend.modelId())) {
            throw ErrorResponses.unknownModel(id, backend.modelId());
        }
        ex.json(200, model(backend));
    }

    /**
     * {@code POST /tokenize}: {@code {"content": "text"}} (options {@code add_special}: prepend {@code [gMASK] sop};
     * {@code parse_special}: special-token strings become their ids; {@code with_pieces}: ids with their pieces), or
     * a chat request's {@code messages} (with tools and tool_choice) for the exact prompt the server would generate from.
     */
    static void tokenize(Exchange ex, Backend backend, Admission admission) throws IOException {
        byte[] bytes = ex.body();
        ex.json(200, admission.run(() -> tokenize(bytes, backend)));
    }

    private static ObjectNode tokenize(byte[] bytes, Backend backend) {
        int[] ids;
        boolean pieces;
        try {
            ObjectNode body = object(bytes);
            pieces = Boolean.TRUE.equals(Fields.bool(body, "with_pieces", "with_pieces"));
            if (Fields.get(body, "messages") != null) {
                ids = ChatEndpoint.prompt(backend, ChatRequest.parse(body));
            } else {
                String content = Fields.string(body, "content", "content");
                if (content == null) {
                    throw new InvalidRequestException("content", "content (a string) or messages is required");
                }
                PromptBudget.checkText(backend, content, "content");
                boolean special = Boolean.TRUE.equals(Fields.bool(body, "parse_special", "parse_special"));
                int[] text = special ? backend.tokenizer().encodeWithSpecialTokens(content) : backend.tokenizer().encode(content);
                if (Boolean.TRUE.equals(Fields.bool(body, "add_special", "add_special"))) {
                    text = PromptBuilder.withPrefix(text);
                }
                ids = text;
            }
        } catch (InvalidRequestException e) {
            throw ErrorResponses.from(e);
        }
        ObjectNode root = NODES.objectNode();
        var tokens = root.putArray("tokens");
        for (int id : ids) {
            if (pieces) {
                tokens.addObject().put("id", id).put("piece", backend.tokenizer().piece(id));
            } else {
                tokens.add(id);
            }
        }
        root.put("count", ids.length);
        root.put("max_model_len", backend.contextSize());
        return root;
    }

    /** {@code POST /detokenize}: {@code {"tokens": [ids]}} to {@code {"content": text}}, decoded as the reference does. */
    static void detokenize(Exchange ex, Backend backend, Admission admission) throws IOException {
        byte[] bytes = ex.body();
        ex.json(200, admission.run(() -> detokenize(bytes, backend)));
    }

    private static ObjectNode detokenize(byte[] bytes, Backend backend) {
        int[] ids;
        try {
            ObjectNode body = object(bytes);
            JsonNode tokens = Fields.get(body, "tokens");
            if (tokens == null || !tokens.isArray()) {
                throw new InvalidRequestException("tokens", "tokens must be an array of token ids");
            }
            ids = tokens.isEmpty() ? new int[0] : tokenIds(tokens, "tokens", backend.tokenizer());
        } catch (InvalidRequestException e) {
            throw ErrorResponses.from(e);
        }
        ObjectNode root = NODES.objectNode();
        root.put("content", backend.tokenizer().decode(ids));
        return root;
    }

    /** The request body as a JSON object, parsed within {@link RequestJson}'s bounds; 400 otherwise. */
    static ObjectNode object(byte[] body) {
        JsonNode node = RequestJson.parse(body, "The request body", null);
        if (node == null || node.isMissingNode()) {
            throw new InvalidRequestException(null, "The request body is empty; send a JSON object.");
        }
        if (!node.isObject()) {
            throw new InvalidRequestException(null, "The request body must be a JSON object.");
        }
        return (ObjectNode) node;
    }

    /** Token ids from a JSON array, each checked against the vocabulary. */
    static int[] tokenIds(JsonNode array, String param, ChatGLMTokenizer tokenizer) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() >= tokenizer.vocabSize()) {
                throw new InvalidRequestException(param + "[" + i + "]", param + "[" + i + "] must be a token id in [0, "
                        + tokenizer.vocabSize() + "), got " + v);
            }
            ids[i] = v.intValue();
        }
        return ids;
    }
}
