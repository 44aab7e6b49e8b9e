/**
 * ggml's block-quantized weight formats: a {@link io.github.chatglm4j.tensor.quant.BlockCodec} per type
 * (Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1 quantize byte for byte as ggml's reference quantizers; Q4_K, Q5_K and Q6_K
 * decode exactly and quantize with simple min/max fits), the row-level
 * {@link io.github.chatglm4j.tensor.quant.Quantization} facade that also writes F32/F16/BF16, and
 * {@link io.github.chatglm4j.tensor.quant.MatrixQuantizer} for quantizing a model while it loads.
 *
 * <p>Everything here is scalar and simple on purpose: it writes files and quantizes once at load time, and it is
 * the oracle the vectorized kernels in {@code io.github.chatglm4j.tensor} are tested against.
 */
package io.github.chatglm4j.tensor.quant;
