package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** LangChain4j's OpenAiChatModel and OpenAiStreamingChatModel against the server (scripted model). */
class LangChain4jClientTest {
    static Harness h;
    static OpenAiChatModel chat;
    static OpenAiStreamingChatModel streaming;

    static final ToolSpecification WEATHER = ToolSpecification.builder().name("get_weather").description("Current weather of a city")
            .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(4096, Scripts.assistant()));
        chat = OpenAiChatModel.builder().baseUrl(h.server.baseUrl()).apiKey("unused").modelName(Harness.MODEL).maxRetries(0).build();
        streaming = OpenAiStreamingChatModel.builder().baseUrl(h.server.baseUrl()).apiKey("unused").modelName(Harness.MODEL).build();
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void plainChatWithTokenUsage() {
        ChatResponse r = chat.chat(ChatRequest.builder().messages(UserMessage.from("Hi there")).build());
        assertThat(r.aiMessage().text()).isEqualTo(Scripts.GREETING);
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(r.tokenUsage().inputTokenCount())
                .isEqualTo(new PromptBuilder(Harness.tokenizer()).buildPrompt(List.of(ChatMessage.user("Hi there"))).length);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(Harness.textReply(Scripts.GREETING, ChatGLMTokenizer.USER).length - 1);
    }

    @Test
    void streamingDeliversThePiecesAndTheWholeResponse() throws Exception {
        var pieces = new StringBuilder();
        ChatResponse r = stream(ChatRequest.builder().messages(UserMessage.from("Hi there")).build(), pieces);
        assertThat(pieces.toString()).isEqualTo(Scripts.GREETING);
        assertThat(r.aiMessage().text()).isEqualTo(Scripts.GREETING);
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void toolCallRoundTrip() throws Exception {
        UserMessage question = UserMessage.from("What is the weather in Beijing?");
        ChatResponse first = chat.chat(ChatRequest.builder().messages(question).toolSpecifications(WEATHER).build());
        assertThat(first.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
        AiMessage call = first.aiMessage();
        assertThat(call.toolExecutionRequests()).hasSize(1);
        ToolExecutionRequest request = call.toolExecutionRequests().getFirst();
        assertThat(request.name()).isEqualTo("get_weather");
        assertThat(new ObjectMapper().readTree(request.arguments())).isEqualTo(new ObjectMapper().readTree("{\"city\":\"Beijing\",\"days\":3}"));

        // LangChain4j sends the assistant turn without content: the server must accept that
        ChatResponse second = chat.chat(ChatRequest.builder().messages(question, call,
                ToolExecutionResultMessage.from(request, "{\"sky\": \"sunny\"}")).toolSpecifications(WEATHER).build());
        assertThat(second.aiMessage().text()).isEqualTo(Scripts.WEATHER_ANSWER);
        assertThat(second.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void streamedToolCall() throws Exception {
        ChatResponse r = stream(ChatRequest.builder().messages(UserMessage.from("What is the weather in Beijing?"))
                .toolSpecifications(WEATHER).build(), new StringBuilder());
        assertThat(r.finishReason()).isEqualTo(FinishReason.TOOL_EXECUTION);
        assertThat(r.aiMessage().toolExecutionRequests()).hasSize(1);
        ToolExecutionRequest request = r.aiMessage().toolExecutionRequests().getFirst();
        assertThat(request.name()).isEqualTo("get_weather");
        assertThat(request.id()).startsWith("call_");
        assertThat(new ObjectMapper().readTree(request.arguments())).isEqualTo(new ObjectMapper().readTree("{\"city\":\"Beijing\",\"days\":3}"));
    }

    private static ChatResponse stream(ChatRequest request, StringBuilder pieces) throws Exception {
        var done = new CompletableFuture<ChatResponse>();
        streaming.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                pieces.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return done.get(60, TimeUnit.SECONDS);
    }
}
