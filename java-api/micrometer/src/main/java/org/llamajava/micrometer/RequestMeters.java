package org.llamajava.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineListener;
import org.llamajava.batch.FinishedRequest;

/** Records each finished request of a {@link BatchEngineMetrics}'s engine into one registry's meters. */
final class RequestMeters implements EngineListener {
    private final MeterRegistry registry;
    private final Tags tags;
    private final DistributionSummary input;
    private final DistributionSummary output;
    private final Timer ttft;
    private final Timer perToken;
    private final Counter failed;

    RequestMeters(MeterRegistry registry, Tags tags) {
        this.registry = registry;
        this.tags = tags;
        this.input = tokens(registry, "input");
        this.output = tokens(registry, "output");
        this.ttft = Timer.builder("gen_ai.server.time_to_first_token")
                .description("time from submitting a request to its first generated token").tags(tags)
                .register(registry);
        this.perToken = Timer.builder("gen_ai.server.time_per_output_token")
                .description("time per generated token after the first").tags(tags).register(registry);
        this.failed = Counter.builder("llama.engine.requests.failed").description("requests that failed")
                .tags(tags).register(registry);
    }

    private DistributionSummary tokens(MeterRegistry registry, String type) {
        return DistributionSummary.builder("gen_ai.client.token.usage").description("tokens per request")
                .baseUnit("tokens").tags(tags).tag("gen_ai.token.type", type).register(registry);
    }

    @Override
    public void finished(FinishedRequest r, Object attachment) {
        input.record(r.inputTokens());
        output.record(r.outputTokens());
        Timer.builder("gen_ai.server.request.duration").description("time from submitting a request to its end")
                .tags(tags).tag("gen_ai.response.finish_reason", r.completion().finishReason().name().toLowerCase(
                        java.util.Locale.ROOT)).register(registry)
                .record(r.durationNanos(), TimeUnit.NANOSECONDS);
        if (r.timeToFirstTokenNanos() >= 0) {
            ttft.record(r.timeToFirstTokenNanos(), TimeUnit.NANOSECONDS);
            int after = r.outputTokens() - 1;
            if (after > 0) {
                perToken.record((r.durationNanos() - r.timeToFirstTokenNanos()) / after, TimeUnit.NANOSECONDS);
            }
        }
    }

    @Override
    public void failed(BatchRequest request, Throwable error, Object attachment) {
        failed.increment();
    }
}
