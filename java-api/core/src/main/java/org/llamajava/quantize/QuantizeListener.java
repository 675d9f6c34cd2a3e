package org.llamajava.quantize;

/**
 * Progress of a {@link Quantizer} run, reported on the thread that called
 * {@link Quantizer#quantize}. llama.cpp's {@code llama_model_quantize} has no progress callback,
 * so progress comes two ways: {@link #onProgress}, the output's growth, about every 100 ms and once
 * more at the end with the final size; and {@link #onTensor}, each tensor as llama.cpp finishes it
 * (read from the per-tensor line its quantizer logs, delivered within about 100 ms).
 */
@FunctionalInterface
public interface QuantizeListener {
    /**
     * @param outputBytes bytes of the output written so far (all parts, with {@code keepSplit})
     * @param inputBytes  the size of the input (all its parts), for a rough fraction: the output of
     *                    a quantization is smaller
     */
    void onProgress(long outputBytes, long inputBytes);

    /**
     * A tensor is done.
     *
     * @param index 1 for the first tensor, up to {@code count}
     * @param count the model's tensors
     * @param name  the tensor's name
     */
    default void onTensor(int index, int count, String name) {}
}
