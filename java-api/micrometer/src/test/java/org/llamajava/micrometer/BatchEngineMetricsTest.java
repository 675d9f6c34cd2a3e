package org.llamajava.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchHandle;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.batch.EngineStats;

/**
 * After a known workload, a {@link SimpleMeterRegistry} holds what the engine's own
 * {@link EngineStats} and the requests' {@link Completion}s report: the token usage (against the
 * tokenizer's prompt lengths), one duration and time to first token per request, and the
 * statistics counters; after {@link BatchEngineMetrics#close()} requests are no longer recorded.
 */
class BatchEngineMetricsTest {
    @TempDir
    Path tmp;

    static final List<String> PROMPTS = List.of("Once upon a time there was a little girl",
            "The big brown dog ran across the green field", "Once upon a time there was a little girl named Lily");

    @Test
    void theRegistrySeesWhatTheEngineCounts() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Model m = Model.load(TestSupport.writeTinyModel(tmp));
             BatchEngine engine = BatchEngine.start(m, EngineParams.builder().slots(2).contextSize(512).threads(1).build());
             BatchEngineMetrics metrics = BatchEngineMetrics.of(engine, "tiny")) {
            metrics.bindTo(registry);
            long promptTokens = 0;
            List<BatchHandle> handles = new ArrayList<>();
            int maxTokens = 3;
            for (String p : PROMPTS) {
                int[] prompt = m.vocabulary().tokenize(p, true, true);
                promptTokens += prompt.length;
                handles.add(engine.submit(new BatchRequest(prompt, Sampler.builder().greedy(),
                        GenerateOptions.maxTokens(maxTokens++))));
            }
            long generated = 0;
            for (BatchHandle h : handles) {
                Completion c = h.completion().join();
                generated += c.tokenCount();
            }
            EngineStats stats = engine.stats();
            assertEquals(3, stats.completed());

            DistributionSummary input = registry.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input")
                    .tag("gen_ai.request.model", "tiny").summary();
            DistributionSummary output = registry.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "output")
                    .summary();
            assertEquals(3, input.count());
            assertEquals(promptTokens, (long) input.totalAmount(), "the tokenizer's prompt lengths");
            assertEquals(stats.promptTokensEvaluated() + stats.promptTokensCached(), (long) input.totalAmount());
            assertEquals(3, output.count());
            assertEquals(generated, (long) output.totalAmount());
            assertEquals(stats.tokensGenerated(), (long) output.totalAmount());
            assertEquals(3 + 4 + 5, generated, "each request generated its limit");

            long durations = registry.get("gen_ai.server.request.duration").timers().stream().mapToLong(Timer::count).sum();
            assertEquals(stats.completed(), durations);
            Timer ttft = registry.get("gen_ai.server.time_to_first_token").timer();
            assertEquals(3, ttft.count());
            Timer duration = registry.get("gen_ai.server.request.duration").tag("gen_ai.response.finish_reason", "max_tokens")
                    .timer();
            assertTrue(ttft.totalTime(TimeUnit.NANOSECONDS) <= duration.totalTime(TimeUnit.NANOSECONDS));
            assertEquals(3, registry.get("gen_ai.server.time_per_output_token").timer().count());

            assertEquals(stats.completed(), count(registry, "llama.engine.requests.completed"));
            assertEquals(stats.tokensGenerated(), count(registry, "llama.engine.tokens.generated"));
            assertEquals(stats.decodes(), count(registry, "llama.engine.decodes"));
            assertEquals(stats.promptTokensEvaluated(), (long) registry.get("llama.engine.prompt.tokens")
                    .tag("llama.prompt.source", "evaluated").functionCounter().count());
            assertEquals(stats.promptTokensCached(), (long) registry.get("llama.engine.prompt.tokens")
                    .tag("llama.prompt.source", "cached").functionCounter().count());
            assertEquals(2.0, registry.get("llama.engine.slots").gauge().value());
            assertEquals(0.0, registry.get("llama.engine.queue.size").gauge().value());

            // closed: requests are no longer recorded, but the statistics still read through
            metrics.close();
            engine.submit(new BatchRequest(m.vocabulary().tokenize("the cat", true, true), Sampler.builder().greedy(),
                    GenerateOptions.maxTokens(2))).completion().join();
            assertEquals(3, output.count());
            assertEquals(4, count(registry, "llama.engine.requests.completed"));
        }
    }

    private static long count(SimpleMeterRegistry registry, String name) {
        FunctionCounter c = registry.get(name).functionCounter();
        return (long) c.count();
    }

    @Test
    void statisticsAloneFromASupplier() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        EngineStats s = new EngineStats(4, 1, 2, 10, 100, 20, 55, 70, 1, 4096, 3);
        BatchEngineMetrics.ofStats(() -> s, null).bindTo(registry);
        assertEquals(4.0, registry.get("llama.engine.slots").gauge().value());
        assertEquals(1.0, registry.get("llama.engine.slots.active").gauge().value());
        assertEquals(2.0, registry.get("llama.engine.queue.size").gauge().value());
        assertEquals(10, count(registry, "llama.engine.requests.completed"));
        assertEquals(55, count(registry, "llama.engine.tokens.generated"));
        assertEquals(70, count(registry, "llama.engine.decodes"));
        assertEquals(3, count(registry, "llama.engine.prompt_cache.restores"));
        assertEquals(4096.0, registry.get("llama.engine.prompt_cache.size").gauge().value());
        assertTrue(registry.find("gen_ai.client.token.usage").meters().isEmpty(), "no engine, no per-request meters");
        // a server without an engine (embeddings) reads 0
        SimpleMeterRegistry none = new SimpleMeterRegistry();
        BatchEngineMetrics.ofStats(() -> null, "e").bindTo(none);
        assertEquals(0.0, none.get("llama.engine.slots").gauge().value());
    }
}
