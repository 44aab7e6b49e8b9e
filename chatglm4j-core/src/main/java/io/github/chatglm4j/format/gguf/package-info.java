/**
 * GGUF (versions 2 and 3), the single-file model format of llama.cpp: {@link io.github.chatglm4j.format.gguf.GgufFile}
 * reads any GGUF file, {@link io.github.chatglm4j.format.gguf.GgufCheckpoint} presents a ChatGLM3 one (architecture
 * {@code chatglm}) to the model binder with its config and tokenizer, {@link io.github.chatglm4j.format.gguf.GgufWriter}
 * writes GGUF files of any size, and {@link io.github.chatglm4j.format.gguf.GgufModelWriter} converts Hugging Face
 * checkpoints (or fills random models) with the metadata llama.cpp's own converter writes.
 */
package io.github.chatglm4j.format.gguf;
