package org.llamajava;

import static org.llamajava.bindings.global.llama.*;







/** Data type of the KV cache: smaller types hold more tokens in the same memory, less exactly. */
public enum KvCacheType {
    F16(GGML_TYPE_F16),
    Q8_0(GGML_TYPE_Q8_0),
    Q4_0(GGML_TYPE_Q4_0);

    final int ggmlType;

    KvCacheType(int ggmlType) {
        this.ggmlType = ggmlType;
    }
}
