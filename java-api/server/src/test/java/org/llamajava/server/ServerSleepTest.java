package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's {@code --sleep-idle-seconds} (its test_sleep): an idle server frees its engine
 * and says {@code is_sleeping} in {@code /props}; {@code /health}, {@code /props},
 * {@code /v1/models} and {@code /metrics} answer without waking it; the next request that needs
 * the model wakes it and gets what it got before; the counters go on across the sleep.
 */
class ServerSleepTest {
    @TempDir
    Path tmp;

    private static boolean sleeping(String url) {
        Reply props = get(url + "/props");
        assertEquals(200, props.status(), props.raw().body());
        return props.json().get("is_sleeping").asBoolean();
    }

    /** Polls /props until the server sleeps (bounded; no assertion on how long it took). */
    private static void awaitSleep(String url) throws InterruptedException {
        for (int i = 0; i < 600 && !sleeping(url); i++) {
            Thread.sleep(50);
        }
        assertTrue(sleeping(url), "the idle server went to sleep");
    }

    @Test
    void anIdleServerSleepsAndTheNextRequestWakesIt() throws Exception {
        String body = "{\"prompt\": \"Once upon a time\", \"n_predict\": 12, \"temperature\": 0}";
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).slots(2).contextSize(512).threads(1)
                     .sleepIdle(Duration.ofMillis(200)).build())) {
            String url = s.baseUrl();
            Reply first = post(url + "/completion", body);
            assertEquals(200, first.status(), first.raw().body());
            long generated = s.engineStats().tokensGenerated();
            assertEquals(12, generated);

            awaitSleep(url);
            assertTrue(s.isSleeping());
            assertEquals(200, get(url + "/health").status());
            Reply models = get(url + "/v1/models");
            assertEquals(200, models.status());
            assertEquals(1, models.json().get("data").size());
            Reply metrics = get(url + "/metrics");
            assertEquals(200, metrics.status());
            assertTrue(metrics.raw().body().contains("llamacpp:tokens_predicted_total 12.0"), metrics.raw().body());
            assertTrue(sleeping(url), "reading /health, /props, /v1/models and /metrics does not wake it");
            assertEquals(generated, s.engineStats().tokensGenerated(), "the counters outlive the engine");

            Reply again = post(url + "/completion", body);
            assertEquals(200, again.status(), again.raw().body());
            assertEquals(first.json().get("content").asText(), again.json().get("content").asText(),
                    "the engine built on waking generates what the first did");
            assertEquals(first.json().get("timings").get("prompt_n").asInt(),
                    again.json().get("timings").get("prompt_n").asInt(), "its slots start empty");
            assertFalse(sleeping(url));
            assertEquals(24, s.engineStats().tokensGenerated());

            awaitSleep(url);
            Reply tokens = post(url + "/tokenize", "{\"content\": \"Hello\"}");
            assertEquals(200, tokens.status());
            assertFalse(sleeping(url), "tokenizing wakes it, as llama-server's");
        }
    }

    @Test
    void aSleepTimeMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().sleepIdle(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().sleepIdle(Duration.ofSeconds(-1)).build());
    }
}
