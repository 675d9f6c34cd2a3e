package org.llamajava;

/** Thrown when tokens would not fit in a {@link Context}'s remaining space. */
public class ContextOverflowException extends LlamaException {
    private static final long serialVersionUID = 1L;

    public ContextOverflowException(String message) {
        super(message);
    }
}
