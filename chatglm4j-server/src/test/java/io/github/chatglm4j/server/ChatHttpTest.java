package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.chatglm4j.chat.ChatMessage;
import io.github.chatglm4j.chat.PromptBuilder;
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

/** Chat completions over raw HTTP with a scripted model: response shapes, SSE framing, tool calls, stop strings. */
class ChatHttpTest {
    static Harness h;
    static ScriptedModel model;

    @BeforeAll
    static void start() {
        model = ScriptedModel.replying(4096, Scripts.assistant());
        h = new Harness(model);
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static ObjectNode request(String userText) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", Harness.MODEL);
        body.putArray("messages").addObject().put("role", "user").put("content", userText);
        return body;
    }

    static ObjectNode weatherTools(ObjectNode body) {
        ObjectNode fn = body.putArray("tools").addObject().put("type", "function").putObject("function");
        fn.put("name", "get_weather").put("description", "Current weather of a city");
        ObjectNode params = fn.putObject("parameters").put("type", "object");
        params.putObject("properties").putObject("city").put("type", "string");
        params.putArray("required").add("city");
        return body;
    }

    static JsonNode chat(ObjectNode body) throws Exception {
        HttpResponse<String> r = h.post("/v1/chat/completions", body.toString());
        assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return json(r);
    }

    /** The stream's chunks (without [DONE]), after checking the framing. */
    static List<JsonNode> stream(ObjectNode body) throws Exception {
        body.put("stream", true);
        HttpResponse<String> r = h.post("/v1/chat/completions", body.toString());
        assertThat(r.statusCode()).as("status of %s", r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
        List<String> data = events(r.body());
        assertThat(data.getLast()).as("the stream ends with [DONE]").isEqualTo("[DONE]");
        List<JsonNode> chunks = new ArrayList<>();
        for (String d : data.subList(0, data.size() - 1)) {
            chunks.add(JSON.readTree(d));
        }
        String id = chunks.getFirst().get("id").asText();
        for (JsonNode c : chunks) {
            assertThat(c.get("id").asText()).as("every chunk carries the same id").isEqualTo(id);
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.get("created").isIntegralNumber()).as("created is an integer in %s", c).isTrue();
            assertThat(c.get("model").asText()).isEqualTo(Harness.MODEL);
            for (JsonNode choice : c.get("choices")) {
                assertThat(choice.get("index").asInt()).isZero();
                assertThat(choice.has("finish_reason")).as("finish_reason present (null until the end) in %s", c).isTrue();
                JsonNode calls = choice.get("delta").get("tool_calls");
                assertThat(calls == null || !calls.isEmpty()).as("never an empty tool_calls list: %s", c).isTrue();
            }
        }
        JsonNode first = chunks.getFirst().get("choices").get(0).get("delta");
        assertThat(first.get("role").asText()).as("the first delta carries the role").isEqualTo("assistant");
        return chunks;
    }

    static String content(List<JsonNode> chunks) {
        var sb = new StringBuilder();
        for (JsonNode c : chunks) {
            for (JsonNode choice : c.get("choices")) {
                JsonNode content = choice.get("delta").get("content");
                if (content != null && !content.isNull()) {
                    sb.append(content.asText());
                }
            }
        }
        return sb.toString();
    }

    static String finishReason(List<JsonNode> chunks) {
        String reason = null;
        for (JsonNode c : chunks) {
            for (JsonNode choice : c.get("choices")) {
                if (!choice.get("finish_reason").isNull()) {
                    assertThat(reason).as("only one chunk has a finish_reason").isNull();
                    reason = choice.get("finish_reason").asText();
                }
            }
        }
        return reason;
    }

    static int[] promptIds(List<ChatMessage> messages) {
        return new PromptBuilder(tokenizer()).buildPrompt(messages);
    }

    @Test
    void plainCompletionHasEveryRequiredFieldAndUsageWithoutTheStopToken() throws Exception {
        JsonNode r = chat(request("Hi there"));
        assertThat(r.get("id").asText()).startsWith("chatcmpl-");
        assertThat(r.get("object").asText()).isEqualTo("chat.completion");
        assertThat(r.get("created").isIntegralNumber()).isTrue();
        assertThat(r.get("model").asText()).isEqualTo(Harness.MODEL);
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isEqualTo(Scripts.GREETING);
        assertThat(choice.get("message").has("tool_calls")).as("no tool_calls on a text reply").isFalse();
        int prompt = promptIds(List.of(ChatMessage.user("Hi there"))).length;
        int reply = Harness.textReply(Scripts.GREETING, ChatGLMTokenizer.USER).length - 1;
        JsonNode usage = r.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(prompt);
        assertThat(usage.get("completion_tokens").asInt()).as("the stop token is not counted").isEqualTo(reply);
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(prompt + reply);
    }

    @Test
    void streamedDeltasAddUpToTheWholeReplyAndUsageComesLastWhenAskedFor() throws Exception {
        ObjectNode body = request("Hi there");
        body.putObject("stream_options").put("include_usage", true);
        List<JsonNode> chunks = stream(body);
        assertThat(content(chunks)).isEqualTo(Scripts.GREETING);
        assertThat(finishReason(chunks)).isEqualTo("stop");
        JsonNode last = chunks.getLast();
        assertThat(last.get("choices")).as("the usage chunk has no choices").isEmpty();
        assertThat(last.get("usage").get("completion_tokens").asInt())
                .isEqualTo(Harness.textReply(Scripts.GREETING, ChatGLMTokenizer.USER).length - 1);
        for (JsonNode c : chunks.subList(0, chunks.size() - 1)) {
            assertThat(c.get("usage").isNull()).as("other chunks carry usage: null with include_usage: %s", c).isTrue();
        }
    }

    @Test
    void streamWithoutIncludeUsageEndsWithTheFinishChunkAndNoUsage() throws Exception {
        List<JsonNode> chunks = stream(request("Hi there"));
        JsonNode last = chunks.getLast();
        assertThat(last.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        assertThat(last.get("choices").get(0).get("delta")).isEmpty();
        for (JsonNode c : chunks) {
            assertThat(c.has("usage")).as("no usage field unless asked for: %s", c).isFalse();
        }
    }

    @Test
    void toolCallIsReturnedWithJsonStringArgumentsAndFinishReasonToolCalls() throws Exception {
        JsonNode r = chat(weatherTools(request("What is the weather in Beijing?")));
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("tool_calls");
        JsonNode message = choice.get("message");
        assertThat(message.get("content").isNull()).as("a pure tool call has null content: %s", message).isTrue();
        JsonNode call = message.get("tool_calls").get(0);
        assertThat(call.get("id").asText()).startsWith("call_");
        assertThat(call.get("type").asText()).isEqualTo("function");
        assertThat(call.get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(call.get("function").get("arguments").isTextual()).isTrue();
        assertThat(JSON.readTree(call.get("function").get("arguments").asText()))
                .isEqualTo(JSON.readTree("{\"city\": \"Beijing\", \"days\": 3}"));
    }

    @Test
    void streamedToolCallIsHeldBackThenSentAsOpenAiSendsIt() throws Exception {
        List<JsonNode> chunks = stream(weatherTools(request("What is the weather in Beijing?")));
        assertThat(content(chunks)).as("no text leaks from a tool call").isEmpty();
        assertThat(finishReason(chunks)).isEqualTo("tool_calls");
        List<JsonNode> calls = new ArrayList<>();
        for (JsonNode c : chunks) {
            JsonNode tc = c.get("choices").get(0).get("delta").get("tool_calls");
            if (tc != null) {
                assertThat(tc).hasSize(1);
                calls.add(tc.get(0));
            }
        }
        assertThat(calls).as("a first delta and at least one argument fragment").hasSizeGreaterThanOrEqualTo(2);
        JsonNode first = calls.getFirst();
        assertThat(first.get("index").asInt()).isZero();
        assertThat(first.get("id").asText()).startsWith("call_");
        assertThat(first.get("type").asText()).isEqualTo("function");
        assertThat(first.get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(first.get("function").get("arguments").asText()).isEmpty();
        var args = new StringBuilder();
        for (JsonNode later : calls.subList(1, calls.size())) {
            assertThat(later.get("index").asInt()).as("every delta has the index").isZero();
            assertThat(later.has("id")).isFalse();
            args.append(later.get("function").get("arguments").asText());
        }
        assertThat(JSON.readTree(args.toString())).isEqualTo(JSON.readTree("{\"city\": \"Beijing\", \"days\": 3}"));
    }

    @Test
    void toolResultRoundTripAnswersAndReusesTheConversationPrefix() throws Exception {
        ObjectNode first = weatherTools(request("What is the weather in Beijing?"));
        JsonNode r1 = chat(first);
        JsonNode call = r1.get("choices").get(0).get("message").get("tool_calls").get(0);

        ObjectNode second = weatherTools(request("What is the weather in Beijing?"));
        ArrayNode messages = (ArrayNode) second.get("messages");
        ObjectNode assistant = messages.addObject().put("role", "assistant");
        assistant.putNull("content");
        assistant.putArray("tool_calls").add(call);
        messages.addObject().put("role", "tool").put("tool_call_id", call.get("id").asText()).put("content", "{\"sky\": \"sunny\"}");
        JsonNode r2 = chat(second);
        assertThat(r2.get("choices").get(0).get("message").get("content").asText()).isEqualTo(Scripts.WEATHER_ANSWER);
        assertThat(r2.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");

        JsonNode u1 = r1.get("usage");
        JsonNode u2 = r2.get("usage");
        // the history re-encodes to exactly the tokens generated, so the whole first exchange comes from the cache
        assertThat(u2.get("prompt_tokens_details").get("cached_tokens").asInt())
                .as("cached prompt tokens of the follow-up")
                .isEqualTo(u1.get("prompt_tokens").asInt() + u1.get("completion_tokens").asInt());
    }

    @Test
    void legacyFunctionsAnswerWithFunctionCall() throws Exception {
        ObjectNode body = request("What is the weather in Beijing?");
        body.putArray("functions").addObject().put("name", "get_weather").putObject("parameters").put("type", "object");
        body.put("function_call", "auto");
        JsonNode r = chat(body.deepCopy());
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("function_call");
        assertThat(choice.get("message").get("function_call").get("name").asText()).isEqualTo("get_weather");
        assertThat(JSON.readTree(choice.get("message").get("function_call").get("arguments").asText()))
                .isEqualTo(JSON.readTree("{\"city\": \"Beijing\", \"days\": 3}"));
        assertThat(choice.get("message").has("tool_calls")).isFalse();

        List<JsonNode> chunks = stream(body);
        assertThat(finishReason(chunks)).isEqualTo("function_call");
        var args = new StringBuilder();
        String name = null;
        for (JsonNode c : chunks) {
            JsonNode fc = c.get("choices").get(0).get("delta").get("function_call");
            if (fc != null) {
                name = name == null ? fc.get("name").asText() : name;
                args.append(fc.get("arguments").asText());
            }
        }
        assertThat(name).isEqualTo("get_weather");
        assertThat(JSON.readTree(args.toString())).isEqualTo(JSON.readTree("{\"city\": \"Beijing\", \"days\": 3}"));
    }

    @Test
    void toolChoiceNoneLeavesTheToolsOutAndAnswersWithText() throws Exception {
        ObjectNode body = weatherTools(request("What is the weather in Beijing?"));
        body.put("tool_choice", "none");
        JsonNode r = chat(body);
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.get("message").has("tool_calls")).isFalse();
        assertThat(choice.get("message").get("content").asText()).isEqualTo("get_weather\n " + Scripts.WEATHER_CALL);
        assertThat(r.get("usage").get("prompt_tokens").asInt()).as("no tools system message in the prompt")
                .isEqualTo(promptIds(List.of(ChatMessage.user("What is the weather in Beijing?"))).length);
    }

    @Test
    void namedToolChoicePrefillsTheToolNameLine() throws Exception {
        ObjectNode body = weatherTools(request("Tell me about Beijing"));
        body.putObject("tool_choice").put("type", "function").putObject("function").put("name", "get_weather");
        HttpResponse<String> tokens = h.post("/tokenize", body.toString());
        JsonNode ids = json(tokens).get("tokens");
        int[] name = tokenizer().encode("get_weather\n");
        for (int i = 0; i < name.length; i++) {
            assertThat(ids.get(ids.size() - name.length + i).asInt()).as("prompt ends with the tool name line").isEqualTo(name[i]);
        }
        assertThat(ids.get(ids.size() - name.length - 1).asInt()).isEqualTo(ChatGLMTokenizer.ASSISTANT);
        JsonNode r = chat(body);
        JsonNode call = r.get("choices").get(0).get("message").get("tool_calls").get(0);
        assertThat(call.get("function").get("name").asText()).isEqualTo("get_weather");
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("tool_calls");
    }

    @Test
    void codeInterpreterIsAToolCallWhenDeclaredElseText() throws Exception {
        ObjectNode declared = request("Please compute 2 to the 100");
        declared.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "interpreter");
        JsonNode r = chat(declared.deepCopy());
        JsonNode message = r.get("choices").get(0).get("message");
        assertThat(message.get("content").asText()).isEqualTo(Scripts.CODE_INTRO);
        JsonNode call = message.get("tool_calls").get(0);
        assertThat(call.get("function").get("name").asText()).isEqualTo("interpreter");
        assertThat(JSON.readTree(call.get("function").get("arguments").asText()).get("code").asText()).isEqualTo("print(2 ** 100)\n");
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("tool_calls");

        List<JsonNode> chunks = stream(declared);
        assertThat(content(chunks)).as("the text before the call streams").isEqualTo(Scripts.CODE_INTRO);
        assertThat(finishReason(chunks)).isEqualTo("tool_calls");

        JsonNode plain = chat(request("Please compute 2 to the 100"));
        assertThat(plain.get("choices").get(0).get("message").get("content").asText())
                .isEqualTo(Scripts.CODE_INTRO + "\ninterpreter\n " + Scripts.CODE);
        assertThat(plain.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void stopStringCutsTheReplyAndEndsGeneration() throws Exception {
        ObjectNode body = request("Please count");
        body.putArray("stop").add("three").add("nine");
        JsonNode r = chat(body.deepCopy());
        assertThat(r.get("choices").get(0).get("message").get("content").asText()).isEqualTo("one two");
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        assertThat(r.get("usage").get("completion_tokens").asInt()).as("generation stopped early")
                .isLessThan(Harness.textReply(Scripts.COUNTING, ChatGLMTokenizer.USER).length - 1);
        List<JsonNode> chunks = stream(body);
        assertThat(content(chunks)).isEqualTo("one two");
        assertThat(finishReason(chunks)).isEqualTo("stop");
    }

    @Test
    void maxTokensCutsWithFinishReasonLength() throws Exception {
        ObjectNode body = request("Please count");
        body.put("max_completion_tokens", 3);
        JsonNode r = chat(body);
        assertThat(r.get("choices").get(0).get("finish_reason").asText()).isEqualTo("length");
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(3);
    }

    @Test
    void contentPartsAndDeveloperRoleAreAccepted() throws Exception {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "developer").put("content", "Be brief.");
        ArrayNode parts = messages.addObject().put("role", "user").putArray("content");
        parts.addObject().put("type", "text").put("text", "Hi");
        parts.addObject().put("type", "text").put("text", "there");
        body.put("user", "someone").put("store", false).putObject("metadata"); // unknown/platform fields are ignored
        JsonNode r = chat(body);
        assertThat(r.get("usage").get("prompt_tokens").asInt())
                .isEqualTo(promptIds(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi\nthere"))).length);
    }
}
