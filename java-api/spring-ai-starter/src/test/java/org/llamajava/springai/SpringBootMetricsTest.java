package org.llamajava.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;
import org.llamajava.batch.BatchEngine;
import org.llamajava.batch.BatchRequest;
import org.llamajava.batch.EngineParams;
import org.llamajava.batch.EngineStats;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.web.servlet.AutoConfigureMockMvc;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.web.servlet.MockMvc;

/**
 * With Actuator on the classpath, the starter's metrics auto-configuration binds the
 * application's {@link BatchEngine}: after two requests, {@code /actuator/metrics} lists the
 * engine's meters with the counts the engine's own {@link EngineStats} gives.
 */
@SpringBootTest(classes = {TestApp.class, SpringBootMetricsTest.Engine.class},
        properties = "management.endpoints.web.exposure.include=metrics")
@AutoConfigureMockMvc
class SpringBootMetricsTest {
    /** The application's engine, over a tiny generated model. */
    @TestConfiguration(proxyBeanMethods = false)
    static class Engine {
        @Bean
        Model model() {
            try {
                return Model.load(TestSupport.writeTinyModel(Files.createTempDirectory("metrics")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Bean
        BatchEngine engine(Model model) {
            return BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(256).threads(1).build());
        }
    }

    @Autowired
    MockMvc mvc;

    @Autowired
    BatchEngine engine;

    @Autowired
    Model model;

    private final ObjectMapper json = new ObjectMapper();

    private JsonNode metric(String path) throws Exception {
        String body = mvc.perform(get("/actuator/metrics" + path)).andReturn().getResponse().getContentAsString();
        return json.readTree(body);
    }

    private static double statistic(JsonNode metric, String name) {
        for (JsonNode m : metric.get("measurements")) {
            if (m.get("statistic").asText().equals(name)) {
                return m.get("value").asDouble();
            }
        }
        throw new AssertionError("no " + name + " in " + metric);
    }

    @Test
    void theActuatorShowsTheEnginesMeters() throws Exception {
        long generated = 0;
        for (String p : new String[] {"Once upon a time", "The dog ran"}) {
            Completion c = engine.submit(new BatchRequest(model.vocabulary().tokenize(p, true, true),
                    Sampler.builder().greedy(), GenerateOptions.maxTokens(4))).completion().join();
            generated += c.tokenCount();
        }
        EngineStats stats = engine.stats();

        JsonNode names = metric("").get("names");
        for (String n : new String[] {"gen_ai.client.token.usage", "gen_ai.server.request.duration",
            "gen_ai.server.time_to_first_token", "llama.engine.tokens.generated", "llama.engine.decodes"}) {
            assertTrue(names.toString().contains("\"" + n + "\""), n + " in " + names);
        }
        JsonNode output = metric("/gen_ai.client.token.usage?tag=gen_ai.token.type:output");
        assertEquals(2.0, statistic(output, "COUNT"));
        assertEquals((double) generated, statistic(output, "TOTAL"));
        assertEquals((double) stats.tokensGenerated(), statistic(output, "TOTAL"));
        assertEquals((double) stats.tokensGenerated(), statistic(metric("/llama.engine.tokens.generated"), "COUNT"));
        assertEquals((double) stats.decodes(), statistic(metric("/llama.engine.decodes"), "COUNT"));
        assertEquals(2.0, statistic(metric("/gen_ai.server.time_to_first_token"), "COUNT"));
        assertEquals(2.0, statistic(metric("/llama.engine.slots"), "VALUE"));
    }
}
