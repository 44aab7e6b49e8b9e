package io.github.chatglm4j.batch;

import io.github.chatglm4j.generate.GenerationOptions;

/**
 * One generation to schedule: the complete prompt ids (the scheduler reuses whatever prefix a slot already holds)
 * and how to generate. Stop strings are the caller's business; it cancels the ticket when it sees one.
 */
public record BatchRequest(int[] prompt, GenerationOptions options) {
    public BatchRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }
}
