package org.llamajava;

/**
 * Progress of a {@link Quantizer} run. llama.cpp's {@code llama_model_quantize} reports no
 * progress of its own, so progress is the growth of the output: {@link #onProgress} is called on
 * the thread that called {@link Quantizer#quantize} about every 100 ms with the bytes written so far, and once more at the end
 * with the final size.
 */
@FunctionalInterface
public interface QuantizeListener {
    /**
     * @param outputBytes bytes of the output written so far (all parts, with {@code keepSplit})
     * @param inputBytes  the size of the input (all its parts), for a rough fraction: the output of
     *                    a quantization is smaller
     */
    void onProgress(long outputBytes, long inputBytes);
}
