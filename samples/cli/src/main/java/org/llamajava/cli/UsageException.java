package org.llamajava.cli;

/**
 * A usage mistake found after parsing (a value out of range, flags that exclude each other, a
 * missing model): the CLI prints it with a usage hint and exits with status 2.
 */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
