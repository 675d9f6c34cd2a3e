package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * With an OpenTelemetry SDK registered globally, the SDK's in-memory exporter receives one SERVER
 * span per HTTP request, whose parent is the W3C {@code traceparent} header's span when the request
 * has one (a root span when not), and, for a generation, one engine span under it with the token
 * usage the response reports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerTracingTest {
    private static final String KEY = "test-key-0123456789";
    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};
    static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
    static final String PARENT = "b7ad6b7169203331";

    @TempDir
    Path tmp;
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private OpenTelemetrySdk sdk;
    private Model model;
    private LlamaServer server;

    @BeforeAll
    void start() {
        GlobalOpenTelemetry.resetForTest();
        sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .buildAndRegisterGlobal();
        model = Model.load(ServerFixture.generationModel(tmp));
        server = LlamaServer.start(model, ServerFixture.config(KEY).modelName("stories").build());
    }

    @AfterAll
    void stop() {
        server.close();
        model.close();
        sdk.close();
        GlobalOpenTelemetry.resetForTest();
    }

    private static long attr(SpanData s, String key) {
        return s.getAttributes().get(AttributeKey.longKey(key));
    }

    @Test
    void oneSpanPerRequestWithTheTraceparentsParentAndAnEngineSpanUnderIt() {
        String body = "{\"model\":\"stories\",\"prompt\":\"Once upon a time\",\"max_tokens\":6}";
        exporter.reset();
        Reply traced = post(server.baseUrl() + "/v1/completions", body, AUTH[0], AUTH[1],
                "traceparent", "00-" + TRACE + "-" + PARENT + "-01");
        assertEquals(200, traced.status(), traced.raw().body());
        Reply plain = post(server.baseUrl() + "/v1/completions", body.replace("6", "3"), AUTH[0], AUTH[1]);
        assertEquals(200, plain.status(), plain.raw().body());
        assertEquals(200, get(server.baseUrl() + "/health").status());

        List<SpanData> spans = exporter.getFinishedSpanItems();
        List<SpanData> requests = spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).toList();
        List<SpanData> engine = spans.stream().filter(s -> s.getName().startsWith("text_completion")).toList();
        assertEquals(3, requests.size(), "one span per HTTP request: " + spans);
        assertEquals(2, engine.size(), "one engine span per generation: " + spans);

        SpanData first = requests.get(0);
        assertEquals("POST /v1/completions", first.getName());
        assertEquals(TRACE, first.getTraceId());
        assertEquals(PARENT, first.getParentSpanId(), "the traceparent header's span");
        assertEquals(200, attr(first, "http.response.status_code"));
        SpanData firstEngine = engine.get(0);
        assertEquals(TRACE, firstEngine.getTraceId());
        assertEquals(first.getSpanId(), firstEngine.getParentSpanId());
        assertEquals(traced.json().at("/usage/prompt_tokens").asLong(), attr(firstEngine, "gen_ai.usage.input_tokens"));
        assertEquals(traced.json().at("/usage/completion_tokens").asLong(), attr(firstEngine, "gen_ai.usage.output_tokens"));
        assertEquals("stories", firstEngine.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model")));

        SpanData second = requests.get(1);
        assertFalse(second.getParentSpanContext().isValid(), "no traceparent: a root span");
        assertEquals(second.getSpanId(), engine.get(1).getParentSpanId());
        assertEquals(plain.json().at("/usage/completion_tokens").asLong(), attr(engine.get(1), "gen_ai.usage.output_tokens"));
        assertEquals("GET /health", requests.get(2).getName());
    }
}
