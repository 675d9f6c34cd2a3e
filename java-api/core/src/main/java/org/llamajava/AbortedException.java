package org.llamajava;

/** Thrown when an evaluation was stopped through an {@link AbortSignal}. */
public class AbortedException extends LlamaException {
    private static final long serialVersionUID = 1L;

    public AbortedException(String message) {
        super(message);
    }
}
