/**
 * Weights and the CPU kernels that multiply them: {@link io.github.chatglm4j.tensor.WeightMatrix} over F32, F16
 * and BF16 data in native or memory-mapped segments, {@link io.github.chatglm4j.tensor.Vectors} for 1-D tensors,
 * and {@link io.github.chatglm4j.tensor.Parallel}, the thread pool that splits the rows.
 *
 * <p>Kernels use the incubating Vector API ({@code --add-modules jdk.incubator.vector}) with 256-bit float
 * vectors; activations are heap {@code float[]}, weights stay in their stored type and are decoded exactly.
 * {@code KernelBench} in the test sources measures them.
 */
package io.github.chatglm4j.tensor;
