package org.llamajava.embed;

/** What an {@link Embedder} or {@link Reranker} does with an input longer than its context. */
public enum Truncation {
    /** Throw {@link IllegalArgumentException} naming the input and its length (the default). */
    FAIL,
    /**
     * Keep the first tokens that fit; if the tokenizer ended the input with a separator or
     * end-of-sequence token, the last kept token is that one again, so the input stays well formed.
     */
    END
}
