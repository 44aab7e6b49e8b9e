package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The official OpenAI Java SDK against the server (scripted model): chat, streaming, a tool round trip, usage. */
class OpenAiJavaClientTest {
    static Harness h;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        h = new Harness(ScriptedModel.replying(4096, Scripts.assistant()));
        client = OpenAIOkHttpClient.builder().baseUrl(h.server.baseUrl()).apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        h.close();
    }

    static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                .name("get_weather").description("Current weather of a city")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .build())
                .build()).build();
    }

    @Test
    void plainChatWithUsage() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(Harness.MODEL).addUserMessage("Hi there").build());
        assertThat(c.choices().getFirst().message().content()).hasValue(Scripts.GREETING);
        assertThat(c.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(c.model()).isEqualTo(Harness.MODEL);
        CompletionUsage usage = c.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(new PromptBuilder(Harness.tokenizer()).buildPrompt(List.of(ChatMessage.user("Hi there"))).length);
        assertThat(usage.completionTokens()).isEqualTo(Harness.textReply(Scripts.GREETING, ChatGLMTokenizer.USER).length - 1);
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        c.validate(); // every required field is present and well typed
    }

    @Test
    void streamingWithIncludeUsage() {
        var acc = ChatCompletionAccumulator.create();
        var text = new StringBuilder();
        CompletionUsage[] usage = new CompletionUsage[1];
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model(Harness.MODEL).addUserMessage("Hi there")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.validate();
                acc.accumulate(chunk);
                chunk.usage().ifPresent(u -> usage[0] = u);
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append));
            });
        }
        assertThat(text.toString()).isEqualTo(Scripts.GREETING);
        ChatCompletion whole = acc.chatCompletion();
        assertThat(whole.choices().getFirst().message().content()).hasValue(Scripts.GREETING);
        assertThat(whole.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(usage[0].completionTokens()).isEqualTo(Harness.textReply(Scripts.GREETING, ChatGLMTokenizer.USER).length - 1);
    }

    @Test
    void toolCallRoundTrip() throws Exception {
        ChatCompletionCreateParams.Builder params = ChatCompletionCreateParams.builder().model(Harness.MODEL)
                .addTool(weatherTool()).addUserMessage("What is the weather in Beijing?");
        ChatCompletion first = client.chat().completions().create(params.build());
        ChatCompletion.Choice choice = first.choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("get_weather");
        assertThat(new ObjectMapper().readTree(call.function().arguments())).isEqualTo(new ObjectMapper().readTree("{\"city\":\"Beijing\",\"days\":3}"));

        params.addMessage(choice.message());
        params.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"sky\": \"sunny\"}").build());
        ChatCompletion second = client.chat().completions().create(params.build());
        assertThat(second.choices().getFirst().message().content()).hasValue(Scripts.WEATHER_ANSWER);
        assertThat(second.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    }

    @Test
    void streamedToolCallAccumulatesToTheSameCall() throws Exception {
        var acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model(Harness.MODEL).addTool(weatherTool()).addUserMessage("What is the weather in Beijing?").build())) {
            stream.stream().forEach(acc::accumulate);
        }
        ChatCompletion.Choice choice = acc.chatCompletion().choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        var calls = choice.message().toolCalls().orElseThrow();
        assertThat(calls).hasSize(1);
        ChatCompletionMessageFunctionToolCall call = calls.getFirst().asFunction();
        assertThat(call.id()).startsWith("call_");
        assertThat(call.function().name()).isEqualTo("get_weather");
        assertThat(new ObjectMapper().readTree(call.function().arguments())).isEqualTo(new ObjectMapper().readTree("{\"city\":\"Beijing\",\"days\":3}"));
    }

    @Test
    void modelsListAndErrorsAreUnderstood() {
        List<Model> models = client.models().list().data();
        assertThat(models).extracting(Model::id).containsExactly(Harness.MODEL);
        assertThatThrownBy(() -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(Harness.MODEL).addUserMessage("hi").n(2).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.getMessage()).contains("n must be 1"));
    }
}
