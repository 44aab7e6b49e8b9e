package io.github.chatglm4j.agent.interpreter;

/**
 * A matplotlib figure a cell left open, saved as PNG (the model is told {@code [Image]}, as in the reference demo).
 *
 * @param png the PNG file's bytes
 */
public record Figure(byte[] png) {
    public Figure {
        png = png.clone();
    }

    @Override
    public byte[] png() {
        return png.clone();
    }
}
