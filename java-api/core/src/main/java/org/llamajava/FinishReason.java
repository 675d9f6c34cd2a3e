package org.llamajava;

/** Why a generation stopped. */
public enum FinishReason {
    /** The model produced an end-of-generation token. */
    END_OF_GENERATION,
    /** The requested maximum number of tokens was generated. */
    MAX_TOKENS,
    /** One of the stop strings appeared (it is not part of the text). */
    STOP_STRING,
    /** The generation was cancelled through its {@link AbortSignal}. */
    CANCELLED,
    /**
     * The sampler's grammar allowed no token at all (e.g. it needs a character that no token of
     * the vocabulary holds), or a lazy grammar's triggered text did not fit it. The text so far
     * does not complete the grammar. (A completed grammar allows only end-of-generation tokens,
     * so it ends with {@link #END_OF_GENERATION}.)
     */
    GRAMMAR_REJECTED
}
