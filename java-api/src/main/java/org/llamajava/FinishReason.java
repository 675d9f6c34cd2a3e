package org.llamajava;

/** Why a generation stopped. */
public enum FinishReason {
    /** The model produced an end-of-generation token. */
    END_OF_GENERATION,
    /** The requested maximum number of tokens was generated. */
    MAX_TOKENS,
    /** The context has no room for another token. */
    CONTEXT_FULL
}
