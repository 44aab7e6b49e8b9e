package io.github.chatglm4j.generate;

/** The model failed while generating (a fault of the engine or the machine, not of the request). */
public final class GenerationFailedException extends RuntimeException {
    public GenerationFailedException(Throwable cause) {
        super("generation failed: " + cause, cause);
    }
}
