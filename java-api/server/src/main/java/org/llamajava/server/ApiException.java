package org.llamajava.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answered in OpenAI's shape,
 * {@code {"error": {"message", "type", "param", "code"}}}, with an HTTP status.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String code;
    final String param;
    /** More fields of the error object (llama-server's {@code n_prompt_tokens}, {@code n_ctx}), or null. */
    private transient ObjectNode extra;

    ApiException(int status, String type, String code, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
    }

    /** 400 for a bad field. */
    static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message);
    }

    /** 400 for a bad request as a whole. */
    static ApiException invalid(String message) {
        return invalid(null, message);
    }

    static ApiException unauthorized() {
        return new ApiException(401, "authentication_error", "invalid_api_key", null,
                "missing or wrong API key: send the header 'Authorization: Bearer KEY' with the key the server was"
                        + " started with");
    }

    static ApiException notFound(String what) {
        return new ApiException(404, "not_found_error", null, null, what);
    }

    static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "request_too_large", null,
                "the request body is larger than this server's limit of " + limit + " bytes: send less, or start the"
                        + " server with a larger body limit");
    }

    /** 503 with Retry-After: every slot is busy and the queue is full, or the server is stopping. */
    static ApiException unavailable(String message) {
        return new ApiException(503, "server_error", "server_busy", null, message);
    }

    /** 501: the server was started for another mode, or the feature is not in this build. */
    static ApiException notSupported(String message) {
        return new ApiException(501, "not_supported_error", null, null, message);
    }

    /**
     * 400 {@code exceed_context_size_error}, as llama-server answers a prompt longer than a slot,
     * with its {@code n_prompt_tokens} and {@code n_ctx} (a slot's tokens).
     */
    static ApiException contextExceeded(int promptTokens, int slotTokens, String message) {
        ApiException e = new ApiException(400, "exceed_context_size_error", "context_length_exceeded", "messages", message);
        e.extra = JsonNodeFactory.instance.objectNode().put("n_prompt_tokens", promptTokens).put("n_ctx", slotTokens);
        return e;
    }

    /** The body: {@code {"error": {"message", "type", "param", "code"}}}. */
    ObjectNode body() {
        ObjectNode b = body(getMessage(), type, param, code);
        if (extra != null) {
            ((ObjectNode) b.get("error")).setAll(extra);
        }
        return b;
    }

    static ObjectNode body(String message, String type, String param, String code) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode e = root.putObject("error");
        e.put("message", message);
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return root;
    }
}
