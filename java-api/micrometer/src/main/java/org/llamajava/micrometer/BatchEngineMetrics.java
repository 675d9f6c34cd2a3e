package org.llamajava.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.EngineStats;

/**
 * Binds a {@link BatchEngine} to Micrometer: per request (through an {@link EngineListener}, so
 * nothing per token) the token usage and times, and from {@link EngineStats} the engine's gauges
 * and counters.
 *
 * <pre>{@code
 * BatchEngineMetrics metrics = BatchEngineMetrics.of(engine, "stories260K");
 * metrics.bindTo(registry);
 * ...
 * metrics.close(); // stops listening (the engine's gauges stay until the registry drops them)
 * }</pre>
 *
 * <p>Meters (each tagged {@code gen_ai.request.model} with the model name given, and any extra tags):
 * <ul>
 * <li>{@code gen_ai.client.token.usage} (summary, tokens, tag {@code gen_ai.token.type} =
 *     {@code input} or {@code output}): tokens per finished request, the prompt's (evaluated and
 *     reused) and the generated ones;</li>
 * <li>{@code gen_ai.server.request.duration} (timer, tag {@code gen_ai.response.finish_reason}):
 *     from submitting to the last token;</li>
 * <li>{@code gen_ai.server.time_to_first_token} (timer): from submitting to the first token;</li>
 * <li>{@code gen_ai.server.time_per_output_token} (timer): after the first token, per further token;</li>
 * <li>{@code llama.engine.requests.failed} (counter): requests whose future failed;</li>
 * <li>from {@link EngineStats}: {@code llama.engine.slots}, {@code llama.engine.slots.active},
 *     {@code llama.engine.queue.size}, {@code llama.engine.prompt_cache.entries},
 *     {@code llama.engine.prompt_cache.size} (gauges) and {@code llama.engine.requests.completed},
 *     {@code llama.engine.prompt.tokens} (tag {@code llama.prompt.source} = {@code evaluated} or
 *     {@code cached}), {@code llama.engine.tokens.generated}, {@code llama.engine.decodes},
 *     {@code llama.engine.prompt_cache.restores} (function counters).</li>
 * </ul>
 *
 * <p>For a {@code LlamaServer}, whose engine is its own, {@link #ofStats} binds the statistics
 * meters from {@code server::engineStats}.
 */
public final class BatchEngineMetrics implements MeterBinder, AutoCloseable {
    /** The GenAI convention's operation name for a completion. */
    static final String OPERATION = "text_completion";

    private final BatchEngine engine;
    private final Supplier<EngineStats> stats;
    private final Tags tags;
    private final List<RequestMeters> listeners = new CopyOnWriteArrayList<>();

    private BatchEngineMetrics(BatchEngine engine, Supplier<EngineStats> stats, String model, Iterable<Tag> extra) {
        this.engine = engine;
        this.stats = stats;
        Tags t = Tags.of("gen_ai.operation.name", OPERATION, "gen_ai.provider.name", "llama-java");
        if (model != null) {
            t = t.and("gen_ai.request.model", model);
        }
        this.tags = t.and(extra == null ? Tags.empty() : extra);
    }

    /**
     * Meters for {@code engine}'s requests and statistics.
     *
     * @param model the model's name for the {@code gen_ai.request.model} tag, or null for none
     */
    public static BatchEngineMetrics of(BatchEngine engine, String model, Tag... extraTags) {
        if (engine == null) {
            throw new IllegalArgumentException("engine is null");
        }
        return new BatchEngineMetrics(engine, engine::stats, model, Tags.of(extraTags));
    }

    /**
     * Only the statistics meters, read from {@code stats} when the registry asks (for an engine
     * not at hand, such as a {@code LlamaServer}'s: {@code BatchEngineMetrics.ofStats(server::engineStats, name)}).
     *
     * @param stats null when the server has no engine (an embedding server): its meters read 0
     */
    public static BatchEngineMetrics ofStats(Supplier<EngineStats> stats, String model, Tag... extraTags) {
        if (stats == null) {
            throw new IllegalArgumentException("stats is null");
        }
        return new BatchEngineMetrics(null, stats, model, Tags.of(extraTags));
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(registry, "llama.engine.slots", "slots in all", EngineStats::slots);
        gauge(registry, "llama.engine.slots.active", "slots serving a request now", EngineStats::activeSlots);
        gauge(registry, "llama.engine.queue.size", "requests waiting for a slot", EngineStats::queued);
        gauge(registry, "llama.engine.prompt_cache.entries", "slot caches saved in host memory",
                EngineStats::promptCacheEntries);
        Gauge.builder("llama.engine.prompt_cache.size", stats, s -> value(s, EngineStats::promptCacheBytes))
                .description("bytes of KV state the prompt cache holds").baseUnit("bytes").tags(tags).register(registry);
        counter(registry, "llama.engine.requests.completed", "requests finished", EngineStats::completed, Tags.empty());
        counter(registry, "llama.engine.prompt.tokens", "prompt tokens", EngineStats::promptTokensEvaluated,
                Tags.of("llama.prompt.source", "evaluated"));
        counter(registry, "llama.engine.prompt.tokens", "prompt tokens", EngineStats::promptTokensCached,
                Tags.of("llama.prompt.source", "cached"));
        counter(registry, "llama.engine.tokens.generated", "tokens sampled", EngineStats::tokensGenerated, Tags.empty());
        counter(registry, "llama.engine.decodes", "native decode calls", EngineStats::decodes, Tags.empty());
        counter(registry, "llama.engine.prompt_cache.restores", "saved caches restored into a slot",
                EngineStats::promptCacheRestores, Tags.empty());
        if (engine != null) {
            RequestMeters l = new RequestMeters(registry, tags);
            listeners.add(l);
            engine.addListener(l);
        }
    }

    private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<EngineStats> f) {
        Gauge.builder(name, stats, s -> value(s, f)).description(description).tags(tags).register(registry);
    }

    private void counter(MeterRegistry registry, String name, String description, ToDoubleFunction<EngineStats> f,
                         Tags more) {
        FunctionCounter.builder(name, stats, s -> value(s, f)).description(description).tags(tags.and(more))
                .register(registry);
    }

    private static double value(Supplier<EngineStats> stats, ToDoubleFunction<EngineStats> f) {
        EngineStats s = stats.get();
        return s == null ? 0 : f.applyAsDouble(s);
    }

    /** Stops recording requests (the listeners leave the engine); idempotent. */
    @Override
    public void close() {
        for (RequestMeters l : listeners) {
            engine.removeListener(l);
        }
        listeners.clear();
    }
}
