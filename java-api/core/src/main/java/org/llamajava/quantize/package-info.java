/**
 * Quantizing GGUF models, as llama.cpp's {@code llama-quantize} does: {@link
 * org.llamajava.quantize.Quantizer} with its {@link org.llamajava.quantize.QuantizationType}s,
 * progress through a {@link org.llamajava.quantize.QuantizeListener}, importance matrices and
 * per-tensor types.
 */
package org.llamajava.quantize;
