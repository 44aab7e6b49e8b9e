/**
 * Quantizing float weights: {@link io.github.chatglm4j.tensor.quant.Quantization}, the row-level facade over the
 * type table's codecs (files, converters, tests), and {@link io.github.chatglm4j.tensor.quant.MatrixQuantizer},
 * which quantizes a model's matrices into native memory while it loads.
 */
package io.github.chatglm4j.tensor.quant;
