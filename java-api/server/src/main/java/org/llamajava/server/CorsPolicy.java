package org.llamajava.server;

import io.javalin.http.Context;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Which browser origins may call the server (CORS), with llama-server's headers. Each entry of the
 * list is an origin ({@code https://app.example}), {@code *} for any origin, or {@code localhost} for
 * loopback origins on any port ({@code http://localhost:3000}, {@code http://127.0.0.1},
 * {@code http://[::1]:8080}). An allowed origin is echoed in {@code Access-Control-Allow-Origin};
 * a preflight ({@code OPTIONS}) is answered 200 without the API key, with
 * {@code Access-Control-Allow-Credentials: true}, {@code Access-Control-Allow-Methods: GET, POST,
 * DELETE, OPTIONS} and {@code Access-Control-Allow-Headers: *}, as llama-server answers it by default;
 * an origin not allowed gets no {@code Access-Control-Allow-Origin}, so the browser refuses the call.
 *
 * <p>An empty list sends no CORS headers at all and leaves {@code OPTIONS} to the routes (and to
 * the API key): the default, so that no web page a user visits can call a model on loopback.
 *
 * @param origins the allowed origins, {@code *} or {@code localhost}
 */
public record CorsPolicy(List<String> origins) {
    /** llama-server's {@code Access-Control-Allow-Methods}. */
    public static final String METHODS = "GET, POST, DELETE, OPTIONS";

    /** No CORS headers. */
    public static final CorsPolicy NONE = new CorsPolicy(List.of());

    public CorsPolicy {
        origins = origins.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** Whether any origin is allowed (else the server sends no CORS headers). */
    public boolean enabled() {
        return !origins.isEmpty();
    }

    /**
     * Whether a browser page from {@code origin} may call the server.
     *
     * @param origin the request's {@code Origin} header, or null
     * @return true if the policy allows it
     */
    public boolean allows(String origin) {
        if (origin == null || origin.isEmpty()) {
            return false;
        }
        for (String o : origins) {
            if (o.equals("*") || o.equalsIgnoreCase(origin) || (o.equalsIgnoreCase("localhost") && isLoopback(origin))) {
                return true;
            }
        }
        return false;
    }

    /** An origin whose host is localhost, 127.0.0.1 or ::1 (any scheme and port). */
    static boolean isLoopback(String origin) {
        try {
            String host = URI.create(origin).getHost();
            if (host == null) {
                return false;
            }
            host = host.toLowerCase(Locale.ROOT);
            return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Adds the CORS headers to a response.
     *
     * @param ctx the request
     * @return true if it is a preflight the policy answers: the caller sends 200 with no body and
     *         skips authentication and routing
     */
    public boolean apply(Context ctx) {
        if (!enabled()) {
            return false;
        }
        String origin = ctx.header("Origin");
        if (allows(origin)) {
            ctx.header("Access-Control-Allow-Origin", origin);
            ctx.header("Vary", "Origin");
        }
        if (!ctx.method().name().equals("OPTIONS")) {
            return false;
        }
        ctx.header("Access-Control-Allow-Credentials", "true");
        ctx.header("Access-Control-Allow-Methods", METHODS);
        ctx.header("Access-Control-Allow-Headers", "*");
        return true;
    }
}
