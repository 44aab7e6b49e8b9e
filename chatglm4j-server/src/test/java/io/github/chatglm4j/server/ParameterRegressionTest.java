package io.github.chatglm4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static io.github.chatglm4j.server.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

/** Values at the edges of their types (issue 10, items 1 and 10): checked as the engine will use them, reported right. */
class ParameterRegressionTest {
    static Harness h;
    static final String HELLO = "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]";

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(64, ScriptedModel.fixed(Harness.textReply("Hello there", ChatGLMTokenizer.EOS))));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void aTopPThatIsZeroAsAFloatMeansGreedyNotA500() throws Exception {
        HttpResponse<String> r = h.post("/v1/chat/completions", "{" + HELLO + ", \"top_p\": 1e-46}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(json(r).at("/choices/0/message/content").asText()).isEqualTo("Hello there");
    }

    @Test
    void aRepetitionPenaltyThatIsZeroAsAFloatIs400() throws Exception {
        HttpResponse<String> r = h.post("/v1/chat/completions", "{" + HELLO + ", \"repetition_penalty\": 7e-46}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode error = json(r).get("error");
        assertThat(error.get("param").asText()).isEqualTo("repetition_penalty");
        assertThat(error.get("message").asText()).contains("32-bit float");
    }

    @Test
    void theLargestMaxTokensIsReportedWithoutOverflow() throws Exception {
        HttpResponse<String> r = h.post("/v1/chat/completions", "{" + HELLO + ", \"max_tokens\": 2147483647}");
        assertThat(r.statusCode()).isEqualTo(400);
        String message = json(r).get("error").get("message").asText();
        assertThat(message).doesNotContain("-21").containsPattern("you requested 21474836\\d\\d tokens");
    }

    @Test
    void completionOverflowErrorsNameThePrompt() throws Exception {
        HttpResponse<String> r = h.post("/v1/completions", "{\"prompt\": \"" + "word ".repeat(200) + "\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r).get("error").get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(json(r).get("error").get("param").asText()).isEqualTo("prompt");
        HttpResponse<String> ids = h.post("/v1/completions", "{\"prompt\": [" + "13,".repeat(100) + "13]}");
        assertThat(json(ids).get("error").get("param").asText()).isEqualTo("prompt");
    }
}
