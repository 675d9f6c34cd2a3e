package org.llamajava.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.llamajava.Completion;
import org.llamajava.batch.EngineStats;

/**
 * The server's Prometheus metrics ({@code /metrics}, text format 0.0.4): requests by endpoint
 * and status with their durations, time to first token, the engine's slots, queue and token
 * counters, and the time spent on prompts and generation. Names start with {@code llamajava_}.
 * llama-server's own family ({@code llamacpp:prompt_tokens_total}, {@code llamacpp:n_decode_total},
 * {@code llamacpp:requests_processing}, ...) is there too, with its names, types and meanings, so
 * that dashboards made for llama-server work.
 */
final class ServerMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Counter requests;
    private final Histogram duration;
    private final Histogram firstToken;
    private final Counter promptSeconds;
    private final Counter generationSeconds;
    private final Counter clientsLeft;
    private final Counter cppPromptSeconds;
    private final Counter cppPredictedSeconds;
    private final java.util.concurrent.atomic.AtomicLong tokensMax = new java.util.concurrent.atomic.AtomicLong();
    /**
     * llama-server's throughput buckets: prompt and generation tokens and nanoseconds since the
     * last scrape, which its two throughput gauges average over and each scrape empties.
     */
    private final double[] bucket = new double[4];

    ServerMetrics(IntSupplier inFlight) {
        requests = Counter.builder().name("llamajava_requests_total")
                .help("HTTP requests answered, by endpoint and status").labelNames("endpoint", "status")
                .register(registry);
        duration = Histogram.builder().name("llamajava_request_duration_seconds")
                .help("time from a request's start to its last byte, by endpoint").labelNames("endpoint")
                .classicOnly().classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
                .register(registry);
        firstToken = Histogram.builder().name("llamajava_time_to_first_token_seconds")
                .help("time from a generation request's start to its first sampled token (queue and prompt included)")
                .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .register(registry);
        promptSeconds = Counter.builder().name("llamajava_prompt_seconds_total")
                .help("time slots spent evaluating prompts").register(registry);
        generationSeconds = Counter.builder().name("llamajava_generation_seconds_total")
                .help("time slots spent generating tokens").register(registry);
        clientsLeft = Counter.builder().name("llamajava_streams_abandoned_total")
                .help("streamed generations that did not finish: the client left, or the server stopped").register(registry);
        GaugeWithCallback.builder().name("llamajava_requests_in_flight").help("HTTP requests being served now")
                .callback(cb -> cb.call(inFlight.getAsInt())).register(registry);
        cppPromptSeconds = Counter.builder().name("llamacpp:prompt_seconds_total")
                .help("Prompt process time").register(registry);
        cppPredictedSeconds = Counter.builder().name("llamacpp:tokens_predicted_seconds_total")
                .help("Predict process time").register(registry);
        GaugeWithCallback.builder().name("llamacpp:prompt_tokens_seconds").help("Average prompt throughput in tokens/s.")
                .callback(cb -> cb.call(bucketRate(0))).register(registry);
        GaugeWithCallback.builder().name("llamacpp:predicted_tokens_seconds")
                .help("Average generation throughput in tokens/s.")
                .callback(cb -> cb.call(bucketRate(2))).register(registry);
        for (String spec : new String[] {"spec_decode_num_draft_tokens_total", "spec_decode_num_accepted_tokens_total",
                "spec_decode_num_drafts_total"}) { // the server's engine does not speculate
            CounterWithCallback.builder().name("llamacpp:" + spec).help("Speculative decoding: " + spec.substring(12)
                    + " (always 0: serve does not speculate)").callback(cb -> cb.call(0)).register(registry);
        }
    }

    /** Tokens a second in the current bucket ({@code i}: 0 prompt, 2 generation). */
    private double bucketRate(int i) {
        synchronized (bucket) {
            return bucket[i + 1] > 0 ? bucket[i] / (bucket[i + 1] / 1e9) : 0;
        }
    }

    /** Adds the engine's gauges and counters. */
    void engine(Supplier<EngineStats> stats) {
        counter("llamacpp:prompt_tokens_total", "Number of prompt tokens processed.", stats,
                EngineStats::promptTokensEvaluated);
        counter("llamacpp:prompt_tokens_cached_total", "Number of prompt tokens reused from the cache.", stats,
                EngineStats::promptTokensCached);
        counter("llamacpp:tokens_predicted_total", "Number of generation tokens processed.", stats,
                EngineStats::tokensGenerated);
        counter("llamacpp:n_decode_total", "Total number of llama_decode() calls", stats, EngineStats::decodes);
        gauge("llamacpp:requests_processing", "Number of requests processing.", stats, EngineStats::activeSlots);
        gauge("llamacpp:requests_deferred", "Number of requests deferred.", stats, EngineStats::queued);
        gauge("llamacpp:n_busy_slots_per_decode", "Average number of busy slots per llama_decode() call (here: tokens"
                + " sampled per decode)", stats, e -> e.decodes() == 0 ? 0 : (double) e.tokensGenerated() / e.decodes());
        gauge("llamajava_slots", "slots (requests generated at once)", stats, EngineStats::slots);
        gauge("llamajava_slots_busy", "slots serving a request now", stats, EngineStats::activeSlots);
        gauge("llamajava_queue_depth", "requests waiting for a slot", stats, EngineStats::queued);
        counter("llamajava_prompt_tokens_total", "prompt tokens evaluated", stats, EngineStats::promptTokensEvaluated);
        counter("llamajava_prompt_tokens_cached_total", "prompt tokens reused from a slot's cache instead",
                stats, EngineStats::promptTokensCached);
        counter("llamajava_tokens_generated_total", "tokens sampled", stats, EngineStats::tokensGenerated);
        counter("llamajava_decode_calls_total", "native decode calls", stats, EngineStats::decodes);
        counter("llamajava_generations_completed_total", "generations finished", stats, EngineStats::completed);
        gauge("llamajava_prompt_cache_entries", "idle slots' caches saved in host memory (--cache-ram)", stats,
                EngineStats::promptCacheEntries);
        gauge("llamajava_prompt_cache_bytes", "bytes of KV state in the prompt cache", stats,
                EngineStats::promptCacheBytes);
        counter("llamajava_prompt_cache_restores_total", "saved caches restored into a slot", stats,
                EngineStats::promptCacheRestores);
    }

    /** Adds the embedder's queue gauge and llama-server's prompt token counter. */
    void embedder(IntSupplier queued) {
        GaugeWithCallback.builder().name("llamajava_embed_queue_depth").help("embedding or rerank requests waiting")
                .callback(cb -> cb.call(queued.getAsInt())).register(registry);
        embedTokens = Counter.builder().name("llamacpp:prompt_tokens_total").help("Number of prompt tokens processed.")
                .register(registry);
        embedDecodes = Counter.builder().name("llamacpp:n_decode_total").help("Total number of llama_decode() calls")
                .register(registry);
        CounterWithCallback.builder().name("llamacpp:tokens_predicted_total").help("Number of generation tokens"
                + " processed (always 0: embeddings sample none)").callback(cb -> cb.call(0)).register(registry);
    }

    private void gauge(String name, String help, Supplier<EngineStats> stats, ToDoubleFunction<EngineStats> f) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(f.applyAsDouble(stats.get())))
                .register(registry);
    }

    private void counter(String name, String help, Supplier<EngineStats> stats, ToDoubleFunction<EngineStats> f) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(f.applyAsDouble(stats.get())))
                .register(registry);
    }

    void request(String endpoint, int status, double seconds) {
        requests.labelValues(endpoint, Integer.toString(status)).inc();
        duration.labelValues(endpoint).observe(seconds);
    }

    /** Records a finished generation (done null: it did not finish, e.g. its client left). */
    void generation(Generation g, List<Completion> done) {
        double ttft = g.timeToFirstToken();
        if (ttft >= 0) {
            firstToken.observe(ttft);
        }
        if (done == null) {
            clientsLeft.inc();
            return;
        }
        for (Completion c : done) {
            promptSeconds.inc(c.timings().promptNanos() / 1e9);
            generationSeconds.inc(c.timings().generationNanos() / 1e9);
            cppPromptSeconds.inc(c.timings().promptNanos() / 1e9);
            cppPredictedSeconds.inc(c.timings().generationNanos() / 1e9);
            synchronized (bucket) {
                bucket[0] += c.timings().promptTokens();
                bucket[1] += c.timings().promptNanos();
                bucket[2] += c.timings().generatedTokens();
                bucket[3] += c.timings().generationNanos();
            }
            tokensMax.accumulateAndGet(c.promptTokens() + c.cachedTokens() + c.tokenCount(), Math::max);
        }
    }

    /** Prompt tokens of embedding or rerank inputs (llama-server counts them as prompt tokens), and their decodes. */
    private Counter embedTokens;
    private Counter embedDecodes;

    /** Counts an embedding request's input tokens and the decodes that embedded them. */
    void embedded(int tokens, int decodes) {
        if (embedTokens != null) {
            embedTokens.inc(tokens);
            embedDecodes.inc(decodes);
        }
    }

    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            synchronized (bucket) { // the gauges average over the time since the last scrape, as llama-server's
                writer.write(out, registry.scrape());
                java.util.Arrays.fill(bucket, 0);
            }
            // llama-server's counter without the _total suffix, which the Prometheus client adds to every counter
            out.write(("# HELP llamacpp:n_tokens_max Largest observed n_tokens (here: the most tokens of one generation,"
                    + " prompt and reply).\n# TYPE llamacpp:n_tokens_max counter\nllamacpp:n_tokens_max "
                    + (double) tokensMax.get() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
