package io.github.chatglm4j.generate;

/** Receives generated tokens as they come; {@code text} is the newly complete text (never half a character). */
@FunctionalInterface
public interface TokenListener {
    TokenListener NONE = (id, text) -> { };

    void onToken(int id, String text);
}
