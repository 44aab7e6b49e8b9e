package io.github.chatglm4j.server;

import io.github.chatglm4j.ChatGLM;
import io.github.chatglm4j.generate.BatchScheduler;
import io.github.chatglm4j.chat.PromptBuilder;
import io.github.chatglm4j.tokenizer.ChatGLMTokenizer;

import java.util.Objects;

/**
 * What requests need from the engine: the tokenizer and prompt builder, the scheduler that generates, and the
 * name the model is served under. The owner of the scheduler (and model) closes them; the server does not.
 *
 * @param modelId     the id in {@code /v1/models} and in every response
 * @param tokenizer   the model's tokenizer
 * @param prompts     builds ChatGLM3 prompts
 * @param scheduler   continuous-batching generation
 * @param created     Unix seconds reported as the model's creation time
 */
public record Backend(String modelId, ChatGLMTokenizer tokenizer, PromptBuilder prompts, BatchScheduler scheduler,
                      long created) {

    public Backend {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(scheduler, "scheduler");
    }

    /** A backend over a loaded model and its scheduler ({@link ChatGLM#scheduler()}). */
    public static Backend of(ChatGLM glm, String modelId) {
        return new Backend(modelId, glm.tokenizer(), glm.prompts(), glm.scheduler(), System.currentTimeMillis() / 1000);
    }

    /** Tokens per request, prompt and reply together. */
    public int contextSize() {
        return scheduler.contextSize();
    }
}
