/**
 * The chatglm4j engine: ChatGLM3 checkpoints (Hugging Face directories, GGUF files), tensor types and kernels, the
 * forward pass, the tokenizer, the chat protocol and generation. No HTTP, no terminal code.
 * The API starts at {@link io.github.chatglm4j.ChatGLM}.
 */
module io.github.chatglm4j.core {
    requires transitive com.fasterxml.jackson.databind;
    requires jdk.incubator.vector;

    exports io.github.chatglm4j;
    exports io.github.chatglm4j.chat;
    exports io.github.chatglm4j.checkpoint;
    exports io.github.chatglm4j.format;
    exports io.github.chatglm4j.format.gguf;
    exports io.github.chatglm4j.generate;
    exports io.github.chatglm4j.model;
    exports io.github.chatglm4j.tensor;
    exports io.github.chatglm4j.tensor.codec;
    exports io.github.chatglm4j.tensor.quant;
    exports io.github.chatglm4j.tokenizer;
    // not exported: format.safetensors and format.torch (read through checkpoint's HuggingFaceCheckpoint)
}
