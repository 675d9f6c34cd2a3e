package org.llamajava;

/** Thrown when a {@link LoadProgressListener} cancelled a model load. */
public class LoadCancelledException extends LlamaException {
    private static final long serialVersionUID = 1L;

    public LoadCancelledException(String message) {
        super(message);
    }
}
