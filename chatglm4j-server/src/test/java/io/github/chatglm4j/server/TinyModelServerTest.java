package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.GatedModel;
import io.github.chatglm4j.testing.Await;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.LoadOptions;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.generate.ModelStepper;
import io.github.chatglm4j.generate.Generation;
import io.github.chatglm4j.generate.GenerationOptions;
import io.github.chatglm4j.generate.SamplingParams;
import io.github.chatglm4j.generate.TokenListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.github.chatglm4j.server.Harness.JSON;
import static io.github.chatglm4j.server.Harness.events;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole stack on the real tiny fixture model (random weights, real tokenizer): HTTP, request mapping, the
 * continuous-batching scheduler, the batched forward pass, greedy sampling, streaming.
 */
class TinyModelServerTest {
    static final int CONTEXT = 512;
    static ChatGLM glm;
    static GatedModel gated;
    static BatchScheduler scheduler;
    static OpenAiServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        glm = ChatGLM.load(Harness.fixtures().resolve("tiny-chatglm3"), LoadOptions.defaults().withThreads(2).withContextSize(CONTEXT));
        gated = new GatedModel(new ModelStepper(glm.model(), CONTEXT));
        scheduler = new BatchScheduler(gated, glm.tokenizer(), 4, 16);
        server = OpenAiServer.start(ServerOptions.local(0));
        server.ready(new Backend("tiny-chatglm3", glm.tokenizer(), glm.prompts(), scheduler, 0));
    }

    @AfterAll
    static void stop() {
        server.close();
        scheduler.close();
        glm.close();
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static JsonNode expected() throws Exception {
        return JSON.readTree(Files.readString(Harness.fixtures().resolve("tiny-chatglm3/expected.json")));
    }

    @Test
    void greedyChatThroughTheServerReproducesTheReferenceIds() throws Exception {
        JsonNode expected = expected();
        int[] inputIds = ints(expected.get("input_ids"));
        int[] greedy = ints(expected.get("greedy_ids"));
        String messages = "\"messages\": [{\"role\": \"user\", \"content\": \"你好，请介绍一下你自己。\"}]";

        JsonNode tokens = JSON.readTree(post("/tokenize", "{" + messages + "}").body());
        assertThat(ints(tokens.get("tokens"))).as("the server's chat prompt is the reference's").containsExactly(inputIds);

        JsonNode r = JSON.readTree(post("/v1/chat/completions",
                "{" + messages + ", \"temperature\": 0, \"max_tokens\": " + greedy.length + "}").body());
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(inputIds.length);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(greedy.length);
        assertThat(choice.get("message").get("content").asText())
                .as("the reference greedy ids, decoded and stripped")
                .isEqualTo(glm.tokenizer().decode(greedy).strip());

        JsonNode completion = JSON.readTree(post("/v1/completions", "{\"prompt\": " + expected.get("input_ids")
                + ", \"temperature\": 0, \"max_tokens\": " + greedy.length + "}").body());
        assertThat(completion.get("choices").get(0).get("text").asText())
                .as("plain completion of the exact prompt ids").isEqualTo(glm.tokenizer().decode(greedy));
    }

    @Test
    void concurrentStreamsEqualTheirOneAtATimeOutputs() throws Exception {
        List<String> prompts = List.of("你好，请介绍一下你自己。", "Hello", "What is 2+2?", "讲一个故事");
        int maxTokens = 20;
        List<String> alone = new ArrayList<>();
        for (String p : prompts) {
            alone.add(streamedText(post("/v1/chat/completions", body(p, maxTokens)).body()));
        }
        // an independent path: the engine's single-sequence generator on the same prompt ids
        int[] ids = ints(JSON.readTree(post("/tokenize", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}").body()).get("tokens"));
        Generation g = glm.complete(ids, GenerationOptions.chat(SamplingParams.greedy(), maxTokens), TokenListener.NONE);
        assertThat(alone.get(1)).as("server vs ChatGLM.complete").isEqualTo(g.text().strip());

        long stepsBefore = scheduler.stats().decodeSteps();
        long tokensBefore = scheduler.stats().generatedTokens();
        gated.gate.hold();
        List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
        for (String p : prompts) {
            together.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body(p, maxTokens))).build(), HttpResponse.BodyHandlers.ofString()));
        }
        gated.gate.awaitHeld();
        Await.until("all requests inside the scheduler", () -> {
            var s = scheduler.stats();
            return s.running() + s.waiting() == prompts.size();
        });
        gated.gate.release();
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(streamedText(together.get(i).get().body())).as("stream %d (%s) with others", i, prompts.get(i)).isEqualTo(alone.get(i));
        }
        long steps = scheduler.stats().decodeSteps() - stepsBefore;
        long tokens = scheduler.stats().generatedTokens() - tokensBefore;
        assertThat(steps).as("decode steps were shared by several streams (%d tokens)", tokens).isLessThan(tokens - prompts.size());
    }

    private static String body(String prompt, int maxTokens) {
        return "{\"stream\": true, \"temperature\": 0, \"max_tokens\": " + maxTokens
                + ", \"messages\": [{\"role\": \"user\", \"content\": " + JSON.valueToTree(prompt) + "}]}";
    }

    private static String streamedText(String sse) throws Exception {
        var text = new StringBuilder();
        List<String> data = events(sse);
        assertThat(data.getLast()).isEqualTo("[DONE]");
        for (String d : data.subList(0, data.size() - 1)) {
            for (JsonNode choice : JSON.readTree(d).get("choices")) {
                JsonNode c = choice.get("delta").get("content");
                if (c != null) {
                    text.append(c.asText());
                }
            }
        }
        return text.toString();
    }

    @Test
    void followUpTurnReusesTheCachedConversation() throws Exception {
        String first = "{\"temperature\": 0, \"max_tokens\": 8, \"messages\": [{\"role\": \"user\", \"content\": \"Hello there\"}]}";
        JsonNode r1 = JSON.readTree(post("/v1/chat/completions", first).body());
        String reply = r1.get("choices").get(0).get("message").get("content").asText();
        String second = "{\"temperature\": 0, \"max_tokens\": 4, \"messages\": [{\"role\": \"user\", \"content\": \"Hello there\"}, "
                + "{\"role\": \"assistant\", \"content\": " + JSON.valueToTree(reply) + "}, {\"role\": \"user\", \"content\": \"More\"}]}";
        JsonNode r2 = JSON.readTree(post("/v1/chat/completions", second).body());
        int cached = r2.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt();
        assertThat(cached).as("at least the first prompt comes from the cache")
                .isGreaterThanOrEqualTo(r1.get("usage").get("prompt_tokens").asInt());
    }
}
