package org.llamajava.springai.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.llamajava.batch.BatchEngine;
import org.llamajava.micrometer.BatchEngineMetrics;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * When Micrometer is on the classpath (Spring Boot's Actuator brings it), binds every
 * {@link BatchEngine} bean of the application to the meter registries with
 * {@link BatchEngineMetrics}: {@code gen_ai.client.token.usage}, {@code gen_ai.server.*} and
 * {@code llama.engine.*} then appear in {@code /actuator/metrics} and {@code /actuator/prometheus}.
 * Spring Boot binds each {@link MeterBinder} bean to each registry it configures.
 */
@AutoConfiguration
@ConditionalOnClass({MeterRegistry.class, BatchEngineMetrics.class})
public class LlamaJavaMetricsAutoConfiguration {

    /** Binds the engines' meters; the listeners it adds leave the engines when the context closes. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(name = "llamaJavaEngineMetrics")
    public EngineMeterBinder llamaJavaEngineMetrics(ObjectProvider<BatchEngine> engines) {
        return new EngineMeterBinder(engines);
    }
}
