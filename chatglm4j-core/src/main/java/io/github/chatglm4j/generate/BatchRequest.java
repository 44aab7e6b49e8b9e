package io.github.chatglm4j.generate;

/**
 * One generation to schedule: the complete prompt ids (the scheduler reuses whatever prefix a slot already holds,
 * so a conversation sends all of its ids every turn) and how to generate.
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
