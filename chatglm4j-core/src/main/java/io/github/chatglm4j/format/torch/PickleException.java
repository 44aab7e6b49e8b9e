package io.github.chatglm4j.format.torch;

/**
 * A pickle stream that is malformed or asks for something the restricted reader refuses. The reader adds the
 * byte offset and turns it into a {@link io.github.chatglm4j.format.ModelFormatException}.
 */
final class PickleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PickleException(String problem) {
        super(problem);
    }
}
