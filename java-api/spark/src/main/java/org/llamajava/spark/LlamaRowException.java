package org.llamajava.spark;

/**
 * A row a llama-java transformer could not process while {@code failOnError} is set: the message
 * names the row (partition and index in it) and the model. Without {@code failOnError} the same
 * message goes into the row's error column and the job goes on.
 */
public final class LlamaRowException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with the row's message. */
    public LlamaRowException(String message) {
        super(message);
    }
}
