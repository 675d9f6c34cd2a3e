package org.llamajava;

/** A failure reported by llama.cpp, such as a model file it cannot load or a failed decode. */
public class LlamaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LlamaException(String message) {
        super(message);
    }

    public LlamaException(String message, Throwable cause) {
        super(message, cause);
    }
}
