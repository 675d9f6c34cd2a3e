package org.llamajava.cli;

/** A request the router refuses, answered with llama-server's status and error type. */
final class RouterError extends RuntimeException {
    final int status;
    final String type;

    RouterError(int status, String type, String message) {
        super(message);
        this.status = status;
        this.type = type;
    }

    /** 400, {@code invalid_request_error}. */
    static RouterError invalid(String message) {
        return new RouterError(400, "invalid_request_error", message);
    }

    /** 500, {@code server_error}. */
    static RouterError server(String message) {
        return new RouterError(500, "server_error", message);
    }
}
