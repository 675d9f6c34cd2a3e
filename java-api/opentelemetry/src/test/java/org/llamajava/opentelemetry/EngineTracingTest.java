package org.llamajava.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;

/**
 * The SDK's in-memory exporter receives one span per engine request, a child of the span current
 * where it was submitted (or a root span without one), with the token usage and finish reason of
 * the request's {@link Completion} and the tokenizer's prompt length.
 */
class EngineTracingTest {
    @TempDir
    Path tmp;

    @Test
    void oneSpanPerRequestWithItsParentAndUsage() {
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        try (OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build()).build();
             Model m = Model.load(TestSupport.writeTinyModel(tmp));
             BatchEngine engine = BatchEngine.start(m, EngineParams.builder().slots(2).contextSize(256).threads(1).build())) {
            engine.addListener(new EngineTracing(otel, "tiny"));
            int[] prompt = m.vocabulary().tokenize("Once upon a time", true, true);
            Span parent = otel.getTracer("test").spanBuilder("parent").startSpan();
            Completion inTrace;
            try (Scope s = parent.makeCurrent()) {
                inTrace = engine.submit(new BatchRequest(prompt, Sampler.builder().greedy(), GenerateOptions.maxTokens(5)))
                        .completion().join();
            } finally {
                parent.end();
            }
            Completion alone = engine.submit(new BatchRequest(prompt, Sampler.builder().greedy(),
                    GenerateOptions.maxTokens(3))).completion().join();

            List<SpanData> spans = exporter.getFinishedSpanItems().stream()
                    .filter(d -> d.getName().startsWith("text_completion")).toList();
            assertEquals(2, spans.size(), "one span per request: " + exporter.getFinishedSpanItems());
            SpanData first = spans.get(0);
            assertEquals("text_completion tiny", first.getName());
            assertEquals(SpanKind.INTERNAL, first.getKind());
            assertEquals(parent.getSpanContext().getTraceId(), first.getTraceId());
            assertEquals(parent.getSpanContext().getSpanId(), first.getParentSpanId());
            assertEquals("tiny", first.getAttributes().get(EngineTracing.MODEL));
            assertEquals(prompt.length, first.getAttributes().get(EngineTracing.INPUT_TOKENS), "the tokenizer's prompt");
            assertEquals(inTrace.tokenCount(), first.getAttributes().get(EngineTracing.OUTPUT_TOKENS));
            assertEquals(5L, first.getAttributes().get(EngineTracing.MAX_TOKENS));
            assertEquals(List.of(inTrace.finishReason().name().toLowerCase()), first.getAttributes()
                    .get(EngineTracing.FINISH_REASONS));
            assertTrue(first.getAttributes().get(EngineTracing.TTFT_MS) > 0);

            SpanData second = spans.get(1);
            assertFalse(second.getParentSpanContext().isValid(), "no span was current: a root span");
            assertEquals(alone.tokenCount(), second.getAttributes().get(EngineTracing.OUTPUT_TOKENS));
            assertEquals(alone.cachedTokens(), second.getAttributes().get(EngineTracing.CACHED_TOKENS));
            assertTrue(alone.cachedTokens() > 0, "the second request reused the first's prompt");
        }
    }
}
