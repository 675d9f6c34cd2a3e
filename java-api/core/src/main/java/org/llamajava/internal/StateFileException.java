package org.llamajava.internal;

/**
 * A {@link StateFile} that cannot be written (too large) or read (not a llama-java state file, of
 * another kind or a newer version, corrupt or truncated, a section missing). Those who save and
 * restore state report it as {@code org.llamajava.LlamaException} with the same message.
 * Internal: not part of the API.
 */
public class StateFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StateFileException(String message) {
        super(message);
    }

    public StateFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
