package org.llamajava;

/**
 * Thrown when tokens would not fit in a {@link Context}'s remaining space and the overflow policy
 * does not shift. When thrown during generation, {@link #partial()} holds what was generated.
 */
public class ContextOverflowException extends LlamaException {
    private static final long serialVersionUID = 1L;
    private final transient Completion partial;

    public ContextOverflowException(String message) {
        this(message, null);
    }

    public ContextOverflowException(String message, Completion partial) {
        super(message);
        this.partial = partial;
    }

    /** The text generated before the context filled up, or null outside generation. */
    public Completion partial() {
        return partial;
    }
}
