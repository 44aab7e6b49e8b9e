package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpResponse;
import java.util.List;

import static io.github.chatglm4j.server.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

/** Client mistakes get OpenAI's error object with the right status and parameter; never a 500, never a stack trace. */
class ErrorHttpTest {
    static Harness h;

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(64, Scripts.assistant()), 1, 4, ServerOptions.local(0).withMaxBodyBytes(4096));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).as("no stack trace in a response").doesNotContain("Exception").doesNotContain("\tat ");
        JsonNode error = json(r).get("error");
        assertThat(error).as("OpenAI's error object in %s", r.body()).isNotNull();
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.has("type") && error.has("param") && error.has("code")).as("all four fields in %s", error).isTrue();
        return error;
    }

    static final String HELLO = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "malformed JSON | {\"messages\": [ | ",
            "a JSON array instead of an object | [1, 2] | ",
            "an empty body | ` ` | ",
            "no messages | {\"model\": \"test-model\"} | messages",
            "messages of the wrong type | {\"messages\": \"hi\"} | messages",
            "an empty message list | {\"messages\": []} | messages",
            "temperature as a string | {" + HELLO + ", \"temperature\": \"hot\"} | temperature",
            "temperature out of range | {" + HELLO + ", \"temperature\": 3} | temperature",
            "n = 2 | {" + HELLO + ", \"n\": 2} | n",
            "json_schema response format | {" + HELLO + ", \"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\"}}} | response_format",
            "an image part | {\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]} | messages[0].content",
            "an unknown role | {\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]} | messages[0].role",
            "tool_choice required | {" + HELLO + ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"required\"} | tool_choice",
            "tool_choice naming an undeclared tool | {" + HELLO + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"f\"}}} | tool_choice",
            "a tool without a name | {" + HELLO + ", \"tools\": [{\"type\": \"function\", \"function\": {}}]} | tools[0].function.name",
            "tool call arguments that are not JSON | {\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"tool_calls\": [{\"id\": \"c\", \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{oops\"}}]}]} | messages[1].tool_calls[0].function.arguments",
            "max_tokens = 0 | {" + HELLO + ", \"max_tokens\": 0} | max_tokens",
            "max_tokens as a float | {" + HELLO + ", \"max_tokens\": 1.5} | max_tokens",
            "logprobs | {" + HELLO + ", \"logprobs\": true} | logprobs",
            "stop of the wrong type | {" + HELLO + ", \"stop\": 5} | stop",
            "stream as a string | {" + HELLO + ", \"stream\": \"yes\"} | stream",
    })
    void badRequestsAre400NamingTheParameter(String what, String body, String param) throws Exception {
        JsonNode error = error(h.post("/v1/chat/completions", body), 400);
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        if (param == null) {
            assertThat(error.get("param").isNull()).as("%s: param", what).isTrue();
        } else {
            assertThat(error.get("param").asText()).as(what).isEqualTo(param);
        }
    }

    @Test
    void unknownModelIs404() throws Exception {
        JsonNode error = error(h.post("/v1/chat/completions", "{\"model\": \"gpt-4o\", " + HELLO + "}"), 404);
        assertThat(error.get("code").asText()).isEqualTo("model_not_found");
        assertThat(error.get("message").asText()).contains("gpt-4o").contains(Harness.MODEL);
        error(h.get("/v1/models/gpt-4o"), 404);
    }

    @Test
    void promptLongerThanTheContextSaysHowLong() throws Exception {
        String longText = "word ".repeat(200);
        JsonNode error = error(h.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + longText + "\"}]}"), 400);
        assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
        int promptTokens = json(h.post("/tokenize", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + longText + "\"}]}")).get("count").asInt();
        assertThat(error.get("message").asText()).contains(Integer.toString(promptTokens)).contains("64");
    }

    @Test
    void tooManyTokensRequestedIs400() throws Exception {
        JsonNode error = error(h.post("/v1/chat/completions", "{" + HELLO + ", \"max_tokens\": 1000}"), 400);
        assertThat(error.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(error.get("param").asText()).isEqualTo("max_tokens");
        assertThat(error.get("message").asText()).contains("64").contains("1000");
    }

    @Test
    void unknownRouteIs404AndWrongMethodIs405() throws Exception {
        JsonNode error = error(h.get("/v1/engines"), 404);
        assertThat(error.get("code").asText()).isEqualTo("unknown_url");
        HttpResponse<String> r = h.get("/v1/chat/completions");
        error(r, 405);
        assertThat(r.headers().firstValue("Allow").orElseThrow()).contains("POST");
        error(h.post("/v1/models", "{}"), 405);
    }

    @Test
    void bodyLargerThanTheLimitIs413() throws Exception {
        String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(5000) + "\"}]}";
        JsonNode error = error(h.post("/v1/chat/completions", big), 413);
        assertThat(error.get("message").asText()).contains("4096");
        // the connection is still usable for the next request
        assertThat(h.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void completionsRefuseWhatTheyCannotHonour() throws Exception {
        assertThat(error(h.post("/v1/completions", "{\"prompt\": \"a\", \"suffix\": \"b\"}"), 400).get("param").asText()).isEqualTo("suffix");
        assertThat(error(h.post("/v1/completions", "{\"prompt\": [\"a\", \"b\"]}"), 400).get("param").asText()).isEqualTo("prompt");
        assertThat(error(h.post("/v1/completions", "{}"), 400).get("param").asText()).isEqualTo("prompt");
        assertThat(error(h.post("/v1/completions", "{\"prompt\": [1, 99999999]}"), 400).get("param").asText()).isEqualTo("prompt[1]");
        assertThat(error(h.post("/detokenize", "{\"tokens\": [-1]}"), 400).get("param").asText()).isEqualTo("tokens[0]");
    }

    @Test
    void apiKeyIsRequiredExceptForHealth() throws Exception {
        try (var keyed = new Harness(ScriptedModel.replying(256, Scripts.assistant()), 1, 4, ServerOptions.local(0).withApiKey("s3cret"))) {
            JsonNode missing = error(keyed.post("/v1/chat/completions", "{" + HELLO + "}"), 401);
            assertThat(missing.get("code").asText()).isEqualTo("invalid_api_key");
            error(keyed.post("/v1/chat/completions", "{" + HELLO + "}", "Authorization", "Bearer wrong"), 401);
            error(keyed.get("/v1/models"), 401);
            error(keyed.get("/metrics"), 401);
            assertThat(keyed.post("/v1/chat/completions", "{" + HELLO + "}", "Authorization", "Bearer s3cret").statusCode()).isEqualTo(200);
            assertThat(keyed.get("/health").statusCode()).as("/health needs no key").isEqualTo(200);
        }
    }

    @Test
    void withoutAKeyAnyBearerIsAccepted() throws Exception {
        assertThat(h.get("/v1/models", "Authorization", "Bearer anything").statusCode()).isEqualTo(200);
    }

    @Test
    void corsPreflightAndHeadersOnlyForConfiguredOrigins() throws Exception {
        try (var cors = new Harness(ScriptedModel.replying(256, Scripts.assistant()), 1, 4,
                ServerOptions.local(0).withCorsOrigins(List.of("http://ui.example")))) {
            var preflight = java.net.http.HttpRequest.newBuilder(java.net.URI.create(cors.base() + "/v1/chat/completions"))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "http://ui.example").header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization, content-type").build();
            HttpResponse<String> ok = cors.http.send(preflight, HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(204);
            assertThat(ok.headers().firstValue("Access-Control-Allow-Origin")).hasValue("http://ui.example");
            assertThat(ok.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("POST");
            assertThat(ok.headers().firstValue("Access-Control-Allow-Headers").orElseThrow()).contains("authorization");

            var other = java.net.http.HttpRequest.newBuilder(java.net.URI.create(cors.base() + "/v1/chat/completions"))
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "http://evil.example").header("Access-Control-Request-Method", "POST").build();
            HttpResponse<String> refused = cors.http.send(other, HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();

            HttpResponse<String> models = cors.get("/v1/models", "Origin", "http://ui.example");
            assertThat(models.headers().firstValue("Access-Control-Allow-Origin")).hasValue("http://ui.example");
        }
        assertThat(h.get("/v1/models", "Origin", "http://ui.example").headers().firstValue("Access-Control-Allow-Origin"))
                .as("no CORS headers unless configured").isEmpty();
    }

    @Test
    void healthIs503UntilTheModelIsReady() throws Exception {
        try (OpenAiServer loading = OpenAiServer.start(ServerOptions.local(0))) {
            var client = java.net.http.HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + loading.port();
            HttpResponse<String> health = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode error = error(health, 503);
            assertThat(error.get("code").asText()).isEqualTo("model_loading");
            assertThat(health.headers().firstValue("Retry-After")).isPresent();
            HttpResponse<String> chat = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/chat/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{" + HELLO + "}")).build(), HttpResponse.BodyHandlers.ofString());
            error(chat, 503);
            try (var scheduler = new io.github.chatglm4j.generate.BatchScheduler(ScriptedModel.replying(64, Scripts.assistant()), Harness.tokenizer(), 1, 1)) {
                loading.ready(new Backend("m", Harness.tokenizer(), new io.github.chatglm4j.chat.PromptBuilder(Harness.tokenizer()), scheduler, 0));
                HttpResponse<String> ready = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(ready.statusCode()).isEqualTo(200);
                assertThat(json(ready).get("status").asText()).isEqualTo("ok");
            }
        }
    }
}
