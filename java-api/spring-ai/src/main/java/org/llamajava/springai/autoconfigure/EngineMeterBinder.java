package org.llamajava.springai.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.llamajava.batch.BatchEngine;
import org.llamajava.micrometer.BatchEngineMetrics;
import org.springframework.beans.factory.ObjectProvider;

/**
 * A {@link MeterBinder} for every {@link BatchEngine} bean (see
 * {@link LlamaJavaMetricsAutoConfiguration}), each with a {@link BatchEngineMetrics}; {@link #close()}
 * removes their listeners from the engines.
 */
public final class EngineMeterBinder implements MeterBinder, AutoCloseable {
    private final ObjectProvider<BatchEngine> engines;
    private final List<BatchEngineMetrics> bound = new CopyOnWriteArrayList<>();

    /** Binds the engines {@code engines} provides when a registry is bound. */
    public EngineMeterBinder(ObjectProvider<BatchEngine> engines) {
        this.engines = engines;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        engines.orderedStream().forEach(engine -> {
            BatchEngineMetrics m = BatchEngineMetrics.of(engine, null);
            m.bindTo(registry);
            bound.add(m);
        });
    }

    @Override
    public void close() {
        bound.forEach(BatchEngineMetrics::close);
        bound.clear();
    }
}
