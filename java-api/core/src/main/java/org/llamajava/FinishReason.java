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
    CANCELLED
}
