package io.github.chatglm4j.server;

import io.github.chatglm4j.testing.ScriptedModel;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.Arrays;

import static io.github.chatglm4j.server.Harness.callReply;
import static io.github.chatglm4j.testing.Numbers.concat;
import static io.github.chatglm4j.server.Harness.textReply;
import static io.github.chatglm4j.server.Harness.tokenizer;

/**
 * A scripted assistant that behaves like ChatGLM3 in the situations the tests need, decided from the prompt text:
 * a weather question gets a tool call, a tool result gets an answer, a code request gets text then a code-interpreter
 * call, a prompt ending in a pre-filled tool name line gets just the call's body.
 */
final class Scripts {
    static final String GREETING = "Hello! How can I help you today?";
    static final String WEATHER_CALL = "```python\ntool_call(city='Beijing', days=3)\n```";
    static final String WEATHER_ANSWER = "It is sunny in Beijing, 25 degrees.";
    static final String COUNTING = "one two three four five";
    static final String CODE_INTRO = "Let me compute.";
    static final String CODE = "```python\nprint(2 ** 100)\n```";

    private Scripts() {
    }

    static ScriptedModel.ReplyScript assistant() {
        return (prompt, generated) -> {
            int[] reply = reply(prompt);
            return generated < reply.length ? reply[generated] : ChatGLMTokenizer.EOS;
        };
    }

    static int[] reply(int[] prompt) {
        int[] name = tokenizer().encode("get_weather\n");
        if (prompt.length > name.length && Arrays.equals(Arrays.copyOfRange(prompt, prompt.length - name.length, prompt.length), name)) {
            return concat(tokenizer().encode(WEATHER_CALL), new int[]{ChatGLMTokenizer.OBSERVATION});
        }
        String text = tokenizer().decode(prompt);
        String last = text.substring(text.lastIndexOf("<|", text.length() - "<|assistant|>".length() - 1));
        if (last.startsWith("<|observation|>")) {
            return textReply(WEATHER_ANSWER, ChatGLMTokenizer.USER);
        }
        if (last.contains("weather")) {
            return callReply("get_weather", WEATHER_CALL);
        }
        if (last.contains("count")) {
            return textReply(COUNTING, ChatGLMTokenizer.USER);
        }
        if (last.contains("compute")) {
            return concat(tokenizer().encode("\n"), tokenizer().encode(CODE_INTRO), new int[]{ChatGLMTokenizer.ASSISTANT},
                    callReply("interpreter", CODE));
        }
        return textReply(GREETING, ChatGLMTokenizer.USER);
    }
}
