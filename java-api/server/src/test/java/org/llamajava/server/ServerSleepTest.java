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

    /** Whether this process maps {@code file} (Linux's /proc/self/maps; null elsewhere). */
    private static Boolean mapped(Path file) throws java.io.IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!java.nio.file.Files.isReadable(maps)) {
            return null;
        }
        String real = file.toRealPath().toString();
        return java.nio.file.Files.readAllLines(maps).stream().anyMatch(l -> l.endsWith(real));
    }

    /**
     * llama-server unloads its model while it sleeps: a server that loads its model
     * ({@link LlamaServer#start(java.util.function.Supplier, ServerConfig)}) closes it when it
     * goes to sleep (its GGUF file is no longer mapped), loads it again on the next request, which
     * gets the same greedy text, and closes it when the server closes.
     */
    @Test
    void aServerThatLoadsItsModelUnloadsItWhileAsleep() throws Exception {
        Path file = ServerFixture.generationModel(tmp);
        java.util.List<Model> loaded = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<Boolean> mappedAtLoad = new java.util.concurrent.CopyOnWriteArrayList<>();
        String body = "{\"prompt\": \"Once upon a time\", \"n_predict\": 12, \"temperature\": 0}";
        try (LlamaServer s = LlamaServer.start(() -> {
            Model m = Model.load(file);
            loaded.add(m);
            try {
                mappedAtLoad.add(mapped(file));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return ServedModel.of(m);
        }, ServerConfig.builder().port(0).slots(2).contextSize(512).threads(1).sleepIdle(Duration.ofMillis(300)).build())) {
            String url = s.baseUrl();
            Reply first = post(url + "/completion", body);
            assertEquals(200, first.status(), first.raw().body());
            Boolean before = mappedAtLoad.get(0);
            if (before != null) {
                assertTrue(before, "the loaded model maps its file");
            }

            awaitSleep(url);
            int n = loaded.size(); // 1, or more if the server slept before the first request came
            assertTrue(loaded.stream().allMatch(Model::isClosed), "sleeping closes the model");
            if (before != null) {
                assertFalse(mapped(file), "the weights are unmapped while it sleeps");
            }
            Reply props = get(url + "/props");
            assertEquals(file.toString(), props.json().get("model_path").asText(), "/props answers while it sleeps");
            Reply models = get(url + "/v1/models");
            assertEquals(200, models.status(), models.raw().body());
            assertTrue(models.json().get("data").get(0).get("meta").get("n_vocab").asInt() > 0);
            assertEquals(n, loaded.size(), "reading /props and /v1/models loads nothing");

            Reply again = post(url + "/completion", body);
            assertEquals(200, again.status(), again.raw().body());
            assertTrue(loaded.size() > n, "waking loads the model again");
            assertEquals(first.json().get("content").asText(), again.json().get("content").asText(),
                    "the model loaded again generates what the first did");
            Reply tokens = post(url + "/tokenize", "{\"content\": \"Hello\"}");
            assertEquals(200, tokens.status(), tokens.raw().body());
        }
        assertTrue(loaded.get(loaded.size() - 1).isClosed(), "closing the server closes the model it loaded");
    }

    /**
     * The adapters loaded with the model are loaded again on waking, with the scales the server had
     * when it went to sleep ({@code POST /lora-adapters} before sleeping holds after it).
     */
    @Test
    void theLoraScalesOutliveTheModelsSleep() throws Exception {
        Path base = org.llamajava.AdapterFiles.writeBase(tmp.resolve("base.gguf"), org.llamajava.AdapterFiles.SHAPE);
        Path loraFile = org.llamajava.AdapterFiles.writeLora(tmp.resolve("lora.gguf"), "llama",
                org.llamajava.AdapterFiles.SHAPE, 4, 8f, 1);
        java.util.List<Model> loaded = new java.util.concurrent.CopyOnWriteArrayList<>();
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 16, \"temperature\": 0}";
        try (LlamaServer s = LlamaServer.start(() -> {
            Model m = Model.load(base);
            loaded.add(m);
            org.llamajava.LoraAdapter lora = org.llamajava.LoraAdapter.load(m, loraFile);
            return new ServedModel(m, null, null, ctx -> ctx.setLoraAdapter(lora, 0f));
        }, ServerConfig.builder().port(0).slots(1).contextSize(256).threads(1).sleepIdle(Duration.ofMillis(200))
                .chatTemplate(org.llamajava.chat.ChatTemplate.builtin("chatml")).build())) {
            String url = s.baseUrl();
            Reply plain = post(url + "/v1/completions", body);
            assertEquals(200, plain.status(), plain.raw().body());
            assertEquals(200, post(url + "/lora-adapters", "[{\"id\": 0, \"scale\": 1.0}]").status());
            Reply adapted = post(url + "/v1/completions", body);
            String text = adapted.json().get("choices").get(0).get("text").asText();
            org.junit.jupiter.api.Assertions.assertNotEquals(plain.json().get("choices").get(0).get("text").asText(), text,
                    "the adapter must change the text for this test to mean anything");

            awaitSleep(url);
            int n = loaded.size();
            assertTrue(loaded.stream().allMatch(Model::isClosed), "sleeping closes the model, its adapter with it");
            Reply again = post(url + "/v1/completions", body);
            assertEquals(200, again.status(), again.raw().body());
            assertTrue(loaded.size() > n, "waking loads it again");
            assertEquals(text, again.json().get("choices").get(0).get("text").asText(), "the scale set before sleeping");
            Reply list = get(url + "/lora-adapters");
            assertEquals(1.0, list.json().get(0).get("scale").asDouble(), 1e-6);
        }
    }

    @Test
    void aSleepTimeMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().sleepIdle(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().sleepIdle(Duration.ofSeconds(-1)).build());
    }
}
