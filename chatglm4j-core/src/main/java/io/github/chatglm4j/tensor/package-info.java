/**
 * Weights and the CPU kernels that multiply them: {@link io.github.chatglm4j.tensor.TensorType}, the table of storage
 * types (F32, F16, BF16 and ggml's block-quantized types) with each type's codec, decoder and kernels,
 * {@link io.github.chatglm4j.tensor.WeightMatrix} over native or memory-mapped segments of any of them,
 * {@link io.github.chatglm4j.tensor.Vectors} for 1-D tensors, and {@link io.github.chatglm4j.tensor.Parallel}, the
 * thread pool that splits the rows.
 *
 * <p>Kernels use the incubating Vector API ({@code --add-modules jdk.incubator.vector}) with 256-bit vectors and
 * one flat method per type and shape of work. Weights stay in their stored type and are decoded exactly (bit for
 * bit as ggml's reference dequantizers). Products with block-quantized weights and one or a few tokens quantize the
 * activations to int8 per block of 32 and multiply in 16-bit lanes; products with many tokens keep float32
 * activations and run a register-tiled GEMM over weights decoded once per call. {@code KernelBench} in the test
 * sources measures them; docs/performance.md has the numbers.
 */
package io.github.chatglm4j.tensor;
