package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

/**
 * How the per-token embeddings of one input become one vector (llama.cpp's pooling type, and
 * {@code llama-embedding --pooling}).
 */
public enum Pooling {
    /** What the model's GGUF says ({@code ARCH.pooling_type}). */
    MODEL(LLAMA_POOLING_TYPE_UNSPECIFIED, null),
    /** No pooling: one vector per token. */
    NONE(LLAMA_POOLING_TYPE_NONE, "none"),
    /** The mean over the input's tokens (sentence-transformers' mean pooling). */
    MEAN(LLAMA_POOLING_TYPE_MEAN, "mean"),
    /** The first token's vector (BERT's [CLS]). */
    CLS(LLAMA_POOLING_TYPE_CLS, "cls"),
    /** The last token's vector (decoder-only embedding models). */
    LAST(LLAMA_POOLING_TYPE_LAST, "last"),
    /** A reranker's classification head on the pooled vector: relevance scores. */
    RANK(LLAMA_POOLING_TYPE_RANK, "rank");

    private final int value;
    private final String flag;

    Pooling(int value, String flag) {
        this.value = value;
        this.flag = flag;
    }

    /** llama.cpp's {@code llama_pooling_type} value. */
    public int value() {
        return value;
    }

    /** The name {@code llama-embedding --pooling} takes, or null for {@link #MODEL}. */
    public String flag() {
        return flag;
    }

    /** The pooling with llama.cpp's value {@code v}. */
    public static Pooling of(int v) {
        for (Pooling p : values()) {
            if (p.value == v) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown llama_pooling_type " + v);
    }

    /** The pooling named as {@code llama-embedding --pooling} names it (none, mean, cls, last, rank). */
    public static Pooling ofFlag(String name) {
        for (Pooling p : values()) {
            if (p.flag != null && p.flag.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown pooling '" + name + "'; use one of none, mean, cls, last, rank");
    }
}
