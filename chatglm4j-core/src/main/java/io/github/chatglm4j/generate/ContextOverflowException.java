package io.github.chatglm4j.generate;

/** The prompt does not fit the context: says how long it is and what fits. */
public final class ContextOverflowException extends IllegalArgumentException {
    private final int promptTokens;
    private final int contextSize;

    public ContextOverflowException(int promptTokens, int contextSize) {
        super("the prompt is " + promptTokens + " tokens but the context holds " + contextSize
                + " (including at least one generated token); shorten the input or raise the context size");
        this.promptTokens = promptTokens;
        this.contextSize = contextSize;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int contextSize() {
        return contextSize;
    }
}
