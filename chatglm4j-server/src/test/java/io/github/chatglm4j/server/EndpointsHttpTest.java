package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.testing.Numbers;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static io.github.chatglm4j.server.Harness.JSON;
import static io.github.chatglm4j.server.Harness.events;
import static io.github.chatglm4j.server.Harness.json;
import static io.github.chatglm4j.server.Harness.tokenizer;
import static org.assertj.core.api.Assertions.assertThat;

/** /v1/models, /v1/completions, /tokenize, /detokenize and /metrics. */
class EndpointsHttpTest {
    static final String COMPLETION = "jumps over the lazy dog";
    static Harness h;

    @BeforeAll
    static void start() {
        // every prompt is completed with the same text, then end of text
        int[] reply = Numbers.concat(tokenizer().encode(COMPLETION), new int[]{ChatGLMTokenizer.EOS});
        h = new Harness(ScriptedModel.replying(512, ScriptedModel.fixed(reply)));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void modelsListsTheServedModelWithEveryRequiredField() throws Exception {
        JsonNode list = json(h.get("/v1/models"));
        assertThat(list.get("object").asText()).isEqualTo("list");
        assertThat(list.get("data")).hasSize(1);
        JsonNode m = list.get("data").get(0);
        assertThat(m.get("id").asText()).isEqualTo(Harness.MODEL);
        assertThat(m.get("object").asText()).isEqualTo("model");
        assertThat(m.get("created").isIntegralNumber()).isTrue();
        assertThat(m.get("owned_by").asText()).isNotBlank();
        assertThat(json(h.get("/v1/models/" + Harness.MODEL))).isEqualTo(m);
        assertThat(json(h.get("/models"))).as("also without /v1").isEqualTo(list);
    }

    @Test
    void completionEncodesTextAfterGmaskSopAndReturnsTheDecodedText() throws Exception {
        JsonNode r = json(h.post("/v1/completions", "{\"model\": \"test-model\", \"prompt\": \"The quick brown fox\", \"max_tokens\": 100}"));
        assertThat(r.get("object").asText()).isEqualTo("text_completion");
        assertThat(r.get("id").asText()).startsWith("cmpl-");
        JsonNode choice = r.get("choices").get(0);
        int[] reply = tokenizer().encode(COMPLETION);
        assertThat(choice.get("text").asText()).isEqualTo(tokenizer().decode(reply));
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(2 + tokenizer().encode("The quick brown fox").length);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(reply.length);
    }

    @Test
    void completionDefaultsToSixteenTokensAndTakesTokenIds() throws Exception {
        String long16 = "{\"prompt\": [64790, 64792, 13755]}";
        JsonNode r = json(h.post("/v1/completions", long16));
        int[] reply = tokenizer().encode(COMPLETION);
        int expected = Math.min(16, reply.length);
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(3);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(expected);
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo(reply.length > 16 ? "length" : "stop");
    }

    @Test
    void completionStreamsTextChunksAndEcho() throws Exception {
        HttpResponse<String> r = h.post("/v1/completions",
                "{\"prompt\": \"Fox\", \"stream\": true, \"echo\": true, \"max_tokens\": 50, \"stream_options\": {\"include_usage\": true}}");
        List<String> data = events(r.body());
        assertThat(data.getLast()).isEqualTo("[DONE]");
        var text = new StringBuilder();
        List<JsonNode> chunks = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) {
            chunks.add(JSON.readTree(d));
        }
        for (JsonNode c : chunks) {
            assertThat(c.get("object").asText()).isEqualTo("text_completion");
            for (JsonNode choice : c.get("choices")) {
                text.append(choice.get("text").asText());
            }
        }
        assertThat(text.toString()).isEqualTo("Fox" + tokenizer().decode(tokenizer().encode(COMPLETION)));
        assertThat(chunks.getLast().get("choices")).isEmpty();
        assertThat(chunks.getLast().get("usage").get("completion_tokens").asInt()).isEqualTo(tokenizer().encode(COMPLETION).length);
        assertThat(chunks.get(chunks.size() - 2).get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void completionStopStringCutsTheText() throws Exception {
        JsonNode r = json(h.post("/v1/completions", "{\"prompt\": \"x\", \"stop\": \" lazy\", \"max_tokens\": 100}"));
        assertThat(r.get("choices").get(0).get("text").asText()).isEqualTo("jumps over the");
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void tokenizeMatchesTheTokenizerAndTheChatPrompt() throws Exception {
        JsonNode plain = json(h.post("/tokenize", "{\"content\": \"你好 Hello\"}"));
        assertThat(ids(plain.get("tokens"))).containsExactly(tokenizer().encode("你好 Hello"));
        JsonNode prefixed = json(h.post("/tokenize", "{\"content\": \"Hello\", \"add_special\": true}"));
        assertThat(ids(prefixed.get("tokens"))).containsExactly(64790, 64792, 13755);
        JsonNode special = json(h.post("/tokenize", "{\"content\": \"<|user|>\", \"parse_special\": true}"));
        assertThat(ids(special.get("tokens"))).containsExactly(ChatGLMTokenizer.USER);
        JsonNode pieces = json(h.post("/tokenize", "{\"content\": \"Hello\", \"with_pieces\": true}"));
        assertThat(pieces.get("tokens").get(0).get("id").asInt()).isEqualTo(13755);
        assertThat(pieces.get("tokens").get(0).get("piece").asText()).isEqualTo("▁Hello");
        JsonNode chat = json(h.post("/tokenize", "{\"messages\": [{\"role\": \"system\", \"content\": \"Be nice.\"}, {\"role\": \"user\", \"content\": \"Hi\"}]}"));
        int[] want = new PromptBuilder(tokenizer()).buildPrompt(List.of(ChatMessage.system("Be nice."), ChatMessage.user("Hi")));
        assertThat(ids(chat.get("tokens"))).containsExactly(want);
        assertThat(chat.get("count").asInt()).isEqualTo(want.length);
        assertThat(chat.get("max_model_len").asInt()).isEqualTo(512);
    }

    @Test
    void detokenizeDecodesAsTheReference() throws Exception {
        // Hugging Face decode: special tokens as text, only the very first piece loses its leading space
        JsonNode r = json(h.post("/detokenize", "{\"tokens\": [64795, 30910, 13, 36474, 54591]}"));
        assertThat(r.get("content").asText()).isEqualTo("<|user|> \n 你好");
        assertThat(json(h.post("/detokenize", "{\"tokens\": [36474, 54591]}")).get("content").asText()).isEqualTo("你好");
    }

    @Test
    void metricsExposeRequestsTokensQueueAndSpeed() throws Exception {
        h.post("/v1/completions", "{\"prompt\": \"metrics\", \"max_tokens\": 4}");
        HttpResponse<String> r = h.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
        String text = r.body();
        assertThat(text).contains("chatglm_http_requests_total{route=\"completions\",status=\"200\"}")
                .contains("# TYPE chatglm_generated_tokens_total counter")
                .contains("chatglm_requests_waiting ")
                .contains("chatglm_requests_running ")
                .contains("chatglm_time_to_first_token_seconds_count ")
                .contains("chatglm_generation_tokens_per_second ")
                .contains("chatglm_requests_finished_total{outcome=\"length\"}");
        long generated = Long.parseLong(line(text, "chatglm_generated_tokens_total "));
        assertThat(generated).as("generated tokens counted").isGreaterThanOrEqualTo(4);
        for (String l : text.split("\n")) {
            assertThat(l.startsWith("#") || l.matches("[a-z_]+(\\{[^}]*})? -?[0-9.e+-]+")).as("exposition line: %s", l).isTrue();
        }
    }

    private static String line(String text, String prefix) {
        for (String l : text.split("\n")) {
            if (l.startsWith(prefix)) {
                return l.substring(prefix.length());
            }
        }
        throw new AssertionError("no line " + prefix);
    }

    private static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
