package org.llamajava.server;

import io.javalin.http.Handler;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import org.llamajava.batch.BatchEngine;
import org.llamajava.opentelemetry.EngineTracing;

/** {@link ServerTracing} with OpenTelemetry present: see there. */
final class OpenTelemetryTracing implements ServerTracing.Wrapper {
    static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("gen_ai.request.model");

    /** Reads the propagated context (traceparent, tracestate) from a Javalin request's headers. */
    private static final TextMapGetter<io.javalin.http.Context> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(io.javalin.http.Context ctx) {
            return ctx.headerMap().keySet();
        }

        @Override
        public String get(io.javalin.http.Context ctx, String key) {
            return ctx == null ? null : ctx.header(key);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final String model;

    private OpenTelemetryTracing(OpenTelemetry otel, String model) {
        this.tracer = otel.getTracer(EngineTracing.SCOPE);
        this.propagator = otel.getPropagators().getTextMapPropagator();
        this.model = model;
    }

    static OpenTelemetryTracing start(BatchEngine engine, String model) {
        OpenTelemetry otel = GlobalOpenTelemetry.get();
        if (engine != null) {
            engine.addListener(new EngineTracing(otel, model));
        }
        return new OpenTelemetryTracing(otel, model);
    }

    @Override
    public Handler wrap(String route, Handler handler) {
        return ctx -> {
            Context parent = propagator.extract(Context.root(), ctx, HEADERS);
            String method = ctx.method().name();
            Span span = tracer.spanBuilder(method + " " + route).setParent(parent).setSpanKind(SpanKind.SERVER)
                    .setAttribute(METHOD, method).setAttribute(ROUTE, route).setAttribute(PATH, ctx.path())
                    .setAttribute(MODEL, model).startSpan();
            try (Scope s = span.makeCurrent()) {
                handler.handle(ctx);
            } catch (Exception | Error e) {
                span.recordException(e);
                span.setStatus(StatusCode.ERROR);
                throw e;
            } finally {
                int status = ctx.statusCode();
                span.setAttribute(STATUS, (long) status);
                if (status >= 500) {
                    span.setStatus(StatusCode.ERROR);
                }
                span.end();
            }
        };
    }
}
