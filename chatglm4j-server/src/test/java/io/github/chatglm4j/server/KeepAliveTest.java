package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.Await;
import io.github.chatglm4j.testing.ScriptedModel;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Streams that wait (a long prompt being computed) get SSE comment lines: real clients ignore them, and a client that
 * left is noticed while its prompt is still being computed, not only at the first token.
 */
class KeepAliveTest {
    static final ServerOptions OPTIONS = ServerOptions.local(0).withKeepAlive(Duration.ofMillis(10));

    @Test
    void clientsIgnoreKeepAliveComments() throws Exception {
        var model = ScriptedModel.replying(4096, Scripts.assistant());
        try (var h = new Harness(model, 1, 4, OPTIONS)) {
            var client = OpenAIOkHttpClient.builder().baseUrl(h.server.baseUrl()).apiKey("x").maxRetries(0).build();
            model.hold();
            CompletableFuture<String> openai = CompletableFuture.supplyAsync(() -> {
                var text = new StringBuilder();
                try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                        ChatCompletionCreateParams.builder().model(Harness.MODEL).addUserMessage("Hi there").build())) {
                    s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
                }
                return text.toString();
            });
            model.awaitHeld();
            Await.until("keep-alive comments sent while the model is busy", () -> h.server.keepAlives() >= 3);
            long before = h.server.keepAlives();

            var lc4j = OpenAiStreamingChatModel.builder().baseUrl(h.server.baseUrl()).apiKey("x").modelName(Harness.MODEL).build();
            var done = new CompletableFuture<ChatResponse>();
            lc4j.chat(ChatRequest.builder().messages(UserMessage.from("Hi there")).build(), new StreamingChatResponseHandler() {
                @Override
                public void onCompleteResponse(ChatResponse r) {
                    done.complete(r);
                }

                @Override
                public void onError(Throwable e) {
                    done.completeExceptionally(e);
                }
            });
            Await.until("keep-alives on the second stream too", () -> h.server.keepAlives() >= before + 6);
            model.release();
            assertThat(openai.get(60, TimeUnit.SECONDS)).isEqualTo(Scripts.GREETING);
            assertThat(done.get(60, TimeUnit.SECONDS).aiMessage().text()).isEqualTo(Scripts.GREETING);
            client.close();
        }
    }

    @Test
    void clientLeavingDuringALongPromptCancelsBeforeTheFirstToken() throws Exception {
        var model = ScriptedModel.replying(8192, Scripts.assistant());
        try (var h = new Harness(model, 1, 4, OPTIONS)) {
            String prompt = "word ".repeat(3000);
            model.hold();
            try (var socket = new Socket("127.0.0.1", h.server.port())) {
                String body = "{\"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"" + prompt + "\"}]}";
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + h.server.port() + "\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).startsWith("HTTP/1.1 200");
                String line;
                while ((line = in.readLine()) != null && !line.startsWith(": keep-alive")) {
                    // headers and the role chunk
                }
                assertThat(line).as("a keep-alive arrives while the prompt is computed").isNotNull();
                model.awaitHeld();
            } // the client leaves while the model is still in the prompt's first chunk
            Await.until("the request is cancelled while its prompt is being computed", () -> h.server.finishedCount("cancelled") == 1);
            model.release();
            Await.until("the slot is free", () -> h.scheduler.stats().running() == 0);
            assertThat(model.decodeSteps.get()).as("no token was generated").isZero();
            int promptTokens = Harness.tokenizer().encode(prompt).length;
            assertThat(model.tokensFed.get()).as("the rest of the %d-token prompt was skipped", promptTokens).isLessThan(promptTokens);
        }
    }
}
