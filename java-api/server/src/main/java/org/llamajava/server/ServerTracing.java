package org.llamajava.server;

import io.javalin.http.Handler;
import org.llamajava.batch.BatchEngine;

/**
 * The server's OpenTelemetry tracing, when it can be had: a SERVER span per HTTP request (its parent
 * from the request's W3C {@code traceparent} header) and, through
 * {@code org.llamajava.opentelemetry.EngineTracing}, a span per engine request under it. Both
 * {@code opentelemetry-api} and {@code llama-java-opentelemetry} are optional dependencies of the
 * server: without them on the classpath there is no tracing, and none of their classes is loaded
 * (this class names none); with them but no OpenTelemetry SDK configured, every span is a no-op.
 */
final class ServerTracing {
    private ServerTracing() {}

    /** Wraps each endpoint's handler in its request's span. */
    interface Wrapper {
        /** {@code handler} inside a span named after {@code route}. */
        Handler wrap(String route, Handler handler);
    }

    /**
     * Tracing through {@code GlobalOpenTelemetry}, with engine spans for {@code engine} (null: none);
     * null when OpenTelemetry's API or llama-java-opentelemetry is missing.
     */
    static Wrapper start(BatchEngine engine, String model) {
        ClassLoader cl = ServerTracing.class.getClassLoader();
        if (cl == null || cl.getResource("io/opentelemetry/api/GlobalOpenTelemetry.class") == null
                || cl.getResource("org/llamajava/opentelemetry/EngineTracing.class") == null) {
            return null;
        }
        return OpenTelemetryTracing.start(engine, model);
    }
}
