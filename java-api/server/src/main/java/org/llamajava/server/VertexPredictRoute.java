package org.llamajava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The {@link VertexPredict} route: each instance goes to the named endpoint of this same server over
 * loopback, with the caller's credentials, so that it passes through the same checks, limits, queue
 * and metrics as a direct request; the answers are gathered in order.
 */
final class VertexPredictRoute {
    /** llama-server's POST routes, in its registration order (the first of a camel-case alias wins). */
    static final List<String> POST_ROUTES = List.of("/props", "/completion", "/completions", "/v1/completions",
            "/chat/completions", "/v1/chat/completions", "/v1/responses", "/responses", "/v1/messages", "/infill",
            "/embedding", "/embeddings", "/v1/embeddings", "/rerank", "/reranking", "/v1/rerank", "/v1/reranking",
            "/tokenize", "/detokenize", "/apply-template", "/chat/completions/input_tokens",
            "/v1/chat/completions/input_tokens", "/responses/input_tokens", "/v1/responses/input_tokens",
            "/v1/messages/count_tokens", "/lora-adapters");
    /** llama-server's GET routes that a prediction may name. */
    static final List<String> GET_ROUTES = List.of("/health", "/v1/health", "/metrics", "/props", "/models",
            "/v1/models", "/api/tags", "/lora-adapters", "/slots");

    private final ObjectMapper mapper;
    private final long maxBodyBytes;
    private final Supplier<String> baseUrl;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final Map<String, String> aliases = new HashMap<>();

    VertexPredictRoute(ObjectMapper mapper, long maxBodyBytes, Supplier<String> baseUrl) {
        this.mapper = mapper;
        this.maxBodyBytes = maxBodyBytes;
        this.baseUrl = baseUrl;
        for (String p : POST_ROUTES) {
            aliases.putIfAbsent(alias(p), p);
        }
        for (String p : GET_ROUTES) {
            aliases.putIfAbsent(alias(p), p);
        }
    }

    /**
     * llama-server's camel-case alias of a path: {@code /v1} dropped, then {@code /}, {@code -} and
     * {@code _} each capitalise the next letter ({@code /v1/chat/completions} is {@code chatCompletions},
     * {@code /apply-template} {@code applyTemplate}).
     */
    static String alias(String path) {
        String s = path;
        if (s.length() > 3 && s.startsWith("/v1")) {
            s = s.substring(3);
        }
        if (s.startsWith("/")) {
            s = s.substring(1);
        }
        StringBuilder out = new StringBuilder();
        boolean cap = false;
        for (char c : s.toCharArray()) {
            if (c == ':') {
                break;
            }
            if (c == '/' || c == '-' || c == '_') {
                cap = true;
            } else {
                out.append(cap ? Character.toUpperCase(c) : c);
                cap = false;
            }
        }
        return out.toString();
    }

    void handle(Context ctx) throws Exception {
        JsonNode body = JsonBody.readAny(ctx, mapper, maxBodyBytes);
        if (!body.isObject()) {
            throw ApiException.invalid("request body must be a JSON object");
        }
        JsonNode instances = body.get("instances");
        if (instances == null || !instances.isArray()) {
            throw ApiException.invalid("request body must include an array field named instances");
        }
        if (instances.size() > VertexPredict.MAX_INSTANCES) {
            throw ApiException.invalid("instances array exceeds maximum size of " + VertexPredict.MAX_INSTANCES);
        }
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        for (JsonNode instance : instances) {
            answers.add(forward(ctx, instance));
        }
        // the worker thread is given back while the instances run (they need worker threads of their own)
        ctx.future(() -> CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenAccept(done -> {
            ArrayNode predictions = mapper.createArrayNode();
            for (CompletableFuture<JsonNode> a : answers) {
                predictions.add(a.join());
            }
            ObjectNode out = mapper.createObjectNode();
            out.set("predictions", predictions);
            try {
                ctx.contentType("application/json").result(mapper.writeValueAsBytes(out));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }));
    }

    private CompletableFuture<JsonNode> forward(Context ctx, JsonNode instance) throws Exception {
        if (!instance.isObject()) {
            return CompletableFuture.completedFuture(error("each instance must be a JSON object", 400));
        }
        JsonNode format = instance.get("@requestFormat");
        if (format == null || !format.isTextual()) {
            return CompletableFuture.completedFuture(error("each instance must include a string @requestFormat", 400));
        }
        ObjectNode payload = ((ObjectNode) instance).deepCopy();
        payload.remove("@requestFormat");
        if (payload.has("stream")) {
            payload.put("stream", false); // the predict route does not stream, as llama-server
        }
        String path = aliases.get(format.asText());
        if (path == null && (POST_ROUTES.contains(format.asText()) || GET_ROUTES.contains(format.asText()))) {
            path = format.asText();
        }
        if (path == null) {
            return CompletableFuture.completedFuture(
                    error("no handler registered for @requestFormat: " + format.asText(), 400));
        }
        boolean post = POST_ROUTES.contains(path);
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(loopback(baseUrl.get()) + path));
        for (String h : List.of("Authorization", "X-Api-Key", "traceparent", "tracestate")) {
            String v = ctx.header(h);
            if (v != null) {
                req.header(h, v);
            }
        }
        if (post) {
            req.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(payload)));
        } else {
            req.GET();
        }
        return http.sendAsync(req.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((res, failure) -> {
            if (failure != null) {
                return error(failure.getMessage() == null ? failure.toString() : failure.getMessage(), 500);
            }
            if (res.body().length == 0) {
                return mapper.nullNode();
            }
            try {
                return mapper.readTree(res.body());
            } catch (Exception notJson) {
                return mapper.getNodeFactory().textNode(new String(res.body(), java.nio.charset.StandardCharsets.UTF_8));
            }
        });
    }

    private ObjectNode error(String message, int code) {
        ObjectNode e = mapper.createObjectNode();
        e.put("code", code);
        e.put("message", message);
        e.put("type", code < 500 ? "invalid_request_error" : "server_error");
        ObjectNode out = mapper.createObjectNode();
        out.set("error", e);
        return out;
    }

    /** The server's own address for a loopback call: a wildcard host becomes loopback. */
    static String loopback(String base) {
        return base.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:")
                .replace("://[0:0:0:0:0:0:0:0]:", "://[::1]:");
    }
}
