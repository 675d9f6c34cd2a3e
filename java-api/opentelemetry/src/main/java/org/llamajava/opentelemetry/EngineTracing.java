package org.llamajava.opentelemetry;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.List;
import java.util.Locale;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineListener;
import org.llamajava.batch.FinishedRequest;

/**
 * A span per {@link BatchEngine} request, named {@code text_completion MODEL} after the GenAI
 * semantic conventions: it starts when the request is submitted, as a child of the span current on
 * the submitting thread (an HTTP server's request span, say), and ends when the request finishes,
 * with its token usage, finish reason and time to first token.
 *
 * <pre>{@code
 * engine.addListener(new EngineTracing(GlobalOpenTelemetry.get(), "stories260K"));
 * }</pre>
 *
 * <p>Attributes: {@code gen_ai.operation.name} ({@code text_completion}), {@code gen_ai.provider.name}
 * ({@code llama-java}), {@code gen_ai.request.model}, {@code gen_ai.request.max_tokens},
 * {@code gen_ai.usage.input_tokens}, {@code gen_ai.usage.output_tokens},
 * {@code gen_ai.response.finish_reasons}, and llama-java's own {@code llama.usage.cached_tokens},
 * {@code llama.time_to_first_token_ms} and {@code llama.queue_ms}. A failed request's span records
 * the exception and has status ERROR.
 */
public final class EngineTracing implements EngineListener {
    /** The instrumentation scope's name. */
    public static final String SCOPE = "org.llamajava";

    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    static final AttributeKey<Long> CACHED_TOKENS = AttributeKey.longKey("llama.usage.cached_tokens");
    static final AttributeKey<Double> TTFT_MS = AttributeKey.doubleKey("llama.time_to_first_token_ms");
    static final AttributeKey<Double> QUEUE_MS = AttributeKey.doubleKey("llama.queue_ms");

    private final Tracer tracer;
    private final String model;

    /**
     * Spans through {@code openTelemetry}'s tracer.
     *
     * @param model the model's name for {@code gen_ai.request.model} and the span name, or null
     */
    public EngineTracing(OpenTelemetry openTelemetry, String model) {
        if (openTelemetry == null) {
            throw new IllegalArgumentException("openTelemetry is null; e.g. GlobalOpenTelemetry.get()");
        }
        this.tracer = openTelemetry.getTracer(SCOPE);
        this.model = model;
    }

    @Override
    public Object submitted(BatchRequest request) {
        Span span = tracer.spanBuilder(model == null ? "text_completion" : "text_completion " + model)
                .setParent(Context.current()).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(OPERATION, "text_completion").setAttribute(PROVIDER, "llama-java")
                .startSpan();
        if (model != null) {
            span.setAttribute(MODEL, model);
        }
        span.setAttribute(MAX_TOKENS, (long) request.options().maxTokens());
        return span;
    }

    @Override
    public void finished(FinishedRequest r, Object attachment) {
        if (!(attachment instanceof Span span)) {
            return;
        }
        span.setAttribute(INPUT_TOKENS, (long) r.inputTokens());
        span.setAttribute(OUTPUT_TOKENS, (long) r.outputTokens());
        span.setAttribute(CACHED_TOKENS, (long) r.completion().cachedTokens());
        span.setAttribute(FINISH_REASONS, List.of(r.completion().finishReason().name().toLowerCase(Locale.ROOT)));
        span.setAttribute(QUEUE_MS, r.queueNanos() / 1e6);
        if (r.timeToFirstTokenNanos() >= 0) {
            span.setAttribute(TTFT_MS, r.timeToFirstTokenNanos() / 1e6);
        }
        span.end();
    }

    @Override
    public void failed(BatchRequest request, Throwable error, Object attachment) {
        if (!(attachment instanceof Span span)) {
            return;
        }
        span.recordException(error);
        span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
        span.end();
    }
}
