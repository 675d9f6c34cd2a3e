package org.llamajava.server;

import java.util.Map;

/**
 * Google Cloud Vertex AI's prediction protocol, as llama-server serves it when {@code AIP_MODE=PREDICTION}:
 * a {@code POST} route (default {@code /predict}) that takes {@code {"instances": [...]}}, each instance a
 * request to one of the server's endpoints named by {@code "@requestFormat"} (a camel-case alias such as
 * {@code chatCompletions} for {@code /v1/chat/completions}, or the path itself), runs them at once (not
 * streamed) and answers {@code {"predictions": [...]}} in the same order, a failed instance as its
 * {@code {"error": ...}}. At most {@value #MAX_INSTANCES} instances, as llama-server.
 *
 * @param predictRoute the prediction route ({@code AIP_PREDICT_ROUTE}, default {@code /predict})
 * @param healthRoute  a second health route ({@code AIP_HEALTH_ROUTE}), or null for {@code /health} alone
 */
public record VertexPredict(String predictRoute, String healthRoute) {
    /** The most instances one prediction request may hold (llama-server's bound). */
    public static final int MAX_INSTANCES = 128;

    /** Checks the routes: each starts with {@code /}. */
    public VertexPredict {
        if (predictRoute == null || !predictRoute.startsWith("/")) {
            throw new IllegalArgumentException("the prediction route must start with '/', got " + predictRoute);
        }
        if (healthRoute != null && !healthRoute.startsWith("/")) {
            throw new IllegalArgumentException("the health route must start with '/', got " + healthRoute);
        }
    }

    /**
     * The protocol as the environment asks for it, as llama-server reads it: on when {@code AIP_MODE} is
     * {@code PREDICTION}, with {@code AIP_PREDICT_ROUTE} and {@code AIP_HEALTH_ROUTE} (a leading {@code /}
     * added when missing); null when off.
     */
    public static VertexPredict fromEnvironment(Map<String, String> env) {
        if (!"PREDICTION".equals(env.get("AIP_MODE"))) {
            return null;
        }
        String predict = route(env.get("AIP_PREDICT_ROUTE"));
        return new VertexPredict(predict == null ? "/predict" : predict, route(env.get("AIP_HEALTH_ROUTE")));
    }

    /**
     * The port the environment asks for ({@code AIP_HTTP_PORT}, default 8080, as llama-server) when
     * {@code AIP_MODE} is {@code PREDICTION}; otherwise {@code port}.
     *
     * @throws IllegalArgumentException when {@code AIP_HTTP_PORT} is not a port number
     */
    public static int port(Map<String, String> env, int port) {
        if (!"PREDICTION".equals(env.get("AIP_MODE"))) {
            return port;
        }
        String v = env.get("AIP_HTTP_PORT");
        if (v == null || v.isEmpty()) {
            return 8080;
        }
        try {
            int p = Integer.parseInt(v.strip());
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("AIP_HTTP_PORT must be a port number (0 to 65535), got '" + v + "'");
        }
    }

    private static String route(String v) {
        if (v == null || v.isEmpty()) {
            return null;
        }
        return v.startsWith("/") ? v : "/" + v;
    }
}
