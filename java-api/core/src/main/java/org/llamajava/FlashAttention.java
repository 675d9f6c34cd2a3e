package org.llamajava;

import static org.llamajava.bindings.global.llama.*;







/** Whether a context uses flash attention. */
public enum FlashAttention {
    /** llama.cpp decides per backend and model. */
    AUTO(LLAMA_FLASH_ATTN_TYPE_AUTO),
    ENABLED(LLAMA_FLASH_ATTN_TYPE_ENABLED),
    DISABLED(LLAMA_FLASH_ATTN_TYPE_DISABLED);

    final int value;

    FlashAttention(int value) {
        this.value = value;
    }
}
