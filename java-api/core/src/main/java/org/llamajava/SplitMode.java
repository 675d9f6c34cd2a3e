package org.llamajava;

import static org.llamajava.bindings.global.llama.*;







/** How a model is split across several GPUs. */
public enum SplitMode {
    /** One GPU ({@link ModelParams#mainGpu()}) holds the whole model. */
    NONE(LLAMA_SPLIT_MODE_NONE),
    /** Layers and KV cache are split across GPUs (the default). */
    LAYER(LLAMA_SPLIT_MODE_LAYER),
    /** Rows are split across GPUs, with tensor parallelism where supported. */
    ROW(LLAMA_SPLIT_MODE_ROW);

    final int value;

    SplitMode(int value) {
        this.value = value;
    }
}
