/**
 * The storage formats of weights, one {@link io.github.chatglm4j.tensor.codec.BlockCodec} per format: the plain
 * floats (F32, F16, BF16) and ggml's block-quantized types, each with its quantizer (byte for byte as llama.cpp's
 * reference quantizers without an importance matrix, checked against files written by {@code llama-quantize}) and a
 * scalar dequantizer (value for value as ggml's).
 *
 * <p>Everything here is scalar and simple on purpose: it writes files and quantizes once at load time, and it is the
 * oracle that the vectorized kernels are tested against. The package knows nothing of the engine: the type table
 * ({@link io.github.chatglm4j.tensor.TensorType}) refers to these codecs, never the other way round.
 */
package io.github.chatglm4j.tensor.codec;
