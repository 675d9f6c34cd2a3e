package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.post;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.AdapterFiles;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.ControlVector;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.gguf.ModelShape;
import org.llamajava.server.ServerFixture.Reply;

/**
 * {@link LlamaServer#start(Model, ServerConfig, org.llamajava.multimodal.Projector, Consumer)}: a
 * LoRA adapter and a control vector applied by the context setup hold for every slot (two
 * requests at once each get the text a {@link Sequence} gives with the same adapters), and a
 * setup that fails, or one for a server that does not generate, is refused at start. llama-server's
 * {@code GET}/{@code POST /lora-adapters} and per-request {@code "lora"}: each request gets the
 * text a Sequence gives with the scales it asked for, or the server's, and bad entries get 400.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerAdaptersTest {
    static final ModelShape SHAPE = AdapterFiles.SHAPE;
    static final String PROMPT = "Once upon a time";

    @TempDir
    static Path tmp;
    private Model model;
    private LoraAdapter lora;
    private LoraAdapter loraB;
    private ControlVector vector;

    @BeforeAll
    void write() {
        model = Model.load(AdapterFiles.writeBase(tmp.resolve("base.gguf"), SHAPE));
        lora = LoraAdapter.load(model, AdapterFiles.writeLora(tmp.resolve("lora.gguf"), "llama", SHAPE, 4, 8f, 1));
        loraB = LoraAdapter.load(model, AdapterFiles.writeLora(tmp.resolve("lora-b.gguf"), "llama", SHAPE, 2, 6f, 2));
        vector = ControlVector.load(AdapterFiles.writeControlVector(tmp.resolve("cv.gguf"), 64, 4, 9, 2f), 0.8f);
    }

    @AfterAll
    void close() {
        model.close(); // closes the adapter
    }

    private String alone(Consumer<Context> setup) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build())) {
            setup.accept(ctx);
            try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                return s.generate(model.vocabulary().tokenize(PROMPT, true, true), greedy, GenerateOptions.maxTokens(16))
                        .text();
            }
        }
    }

    @Test
    void everySlotGeneratesWithTheAdapters() {
        Consumer<Context> setup = ctx -> {
            ctx.setLoraAdapter(lora, 1f);
            ctx.setControlVector(vector, 2, 3);
        };
        String expected = alone(setup);
        assertNotEquals(alone(ctx -> { }), expected, "the adapters must change the text for this test to mean anything");
        try (LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build(), null, setup)) {
            String body = "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":16,\"temperature\":0}";
            List<CompletableFuture<Reply>> replies = List.of(
                    CompletableFuture.supplyAsync(() -> post(s.baseUrl() + "/v1/completions", body)),
                    CompletableFuture.supplyAsync(() -> post(s.baseUrl() + "/v1/completions", body)));
            for (CompletableFuture<Reply> f : replies) {
                Reply r = f.join();
                assertEquals(200, r.status(), r.raw().body());
                assertEquals(expected, r.json().get("choices").get(0).get("text").asText());
            }
        }
    }

    @Test
    void aFailingSetupStopsTheStart() {
        ControlVector narrow = ControlVector.of(new float[][] {new float[8]});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaServer.start(model,
                ServerFixture.config(null).build(), null, ctx -> ctx.setControlVector(narrow)));
        assertTrue(e.getMessage().contains("embedding size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LlamaServer.start(model,
                ServerFixture.config(null).mode(ServerMode.EMBEDDING).build(), null, ctx -> ctx.setLoraAdapter(lora, 1f)));
        assertTrue(e.getMessage().contains("applies to generation"), e.getMessage());
        // the model serves on
        try (LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            Reply r = post(s.baseUrl() + "/v1/completions", "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":16,\"temperature\":0}");
            assertEquals(alone(ctx -> { }), r.json().get("choices").get(0).get("text").asText());
        }
    }

    private static final String KEY = "lora-key-0123456789";
    private static final String[] AUTH = {"Authorization", "Bearer " + KEY};

    private static String completion(String more) {
        return "{\"prompt\":\"" + PROMPT + "\",\"max_tokens\":16,\"temperature\":0" + more + "}";
    }

    private static String text(Reply r) {
        assertEquals(200, r.status(), r.raw().body());
        return r.json().get("choices").get(0).get("text").asText();
    }

    private String alone(java.util.Map<LoraAdapter, Float> scales) {
        return alone(ctx -> ctx.setLoraAdapters(scales));
    }

    @Test
    void loraAdaptersListsAndSetsTheScalesOfRequestsThatNameNone() {
        // as `serve --lora lora.gguf --lora-scaled lora-b.gguf:0`: ids in that order
        java.util.Map<LoraAdapter, Float> start = new java.util.LinkedHashMap<>();
        start.put(lora, 1f);
        start.put(loraB, 0f);
        try (LlamaServer s = LlamaServer.start(model, ServerFixture.config(KEY).build(), null,
                ctx -> ctx.setLoraAdapters(start))) {
            String url = s.baseUrl() + "/lora-adapters";
            assertEquals(401, ServerFixture.get(url).status(), "the key is needed");
            Reply list = ServerFixture.get(url, AUTH);
            assertEquals(200, list.status(), list.raw().body());
            assertEquals(2, list.json().size());
            assertEquals(0, list.json().get(0).get("id").asInt());
            assertEquals(lora.path().toString(), list.json().get(0).get("path").asText());
            assertEquals(1.0, list.json().get(0).get("scale").asDouble());
            assertEquals(1, list.json().get(1).get("id").asInt());
            assertEquals(loraB.path().toString(), list.json().get(1).get("path").asText());
            assertEquals(0.0, list.json().get(1).get("scale").asDouble());
            String withA = alone(java.util.Map.of(lora, 1f));
            assertEquals(withA, text(post(s.baseUrl() + "/v1/completions", completion(""), AUTH)));

            Reply set = post(url, "[{\"id\": 1, \"scale\": 0.5}]", AUTH);
            assertEquals(200, set.status(), set.raw().body());
            assertTrue(set.json().get("success").asBoolean());
            list = ServerFixture.get(url, AUTH);
            assertEquals(0.0, list.json().get(0).get("scale").asDouble(), "not listed: 0, as llama-server sets it");
            assertEquals(0.5, list.json().get(1).get("scale").asDouble());
            String withB = alone(java.util.Map.of(loraB, 0.5f));
            assertNotEquals(withA, withB, "the adapters must differ for this test to mean anything");
            assertEquals(withB, text(post(s.baseUrl() + "/v1/completions", completion(""), AUTH)));

            assertEquals(200, post(url, "[]", AUTH).status());
            assertEquals(alone(ctx -> { }), text(post(s.baseUrl() + "/v1/completions", completion(""), AUTH)));

            for (String bad : new String[] {"{}", "[{\"id\": 2, \"scale\": 1}]", "[{\"id\": \"0\"}]",
                    "[{\"id\": 0, \"scale\": \"high\"}]", "[5]", "not json"}) {
                Reply r = post(url, bad, AUTH);
                assertEquals(400, r.status(), bad + ": " + r.raw().body());
                assertTrue(r.error() != null && r.error().get("message").asText().length() > 0, bad);
            }
            assertEquals(0.0, ServerFixture.get(url, AUTH).json().get(1).get("scale").asDouble(), "bad posts changed nothing");
        }
    }

    @Test
    void eachRequestGeneratesWithTheAdaptersItNames() {
        java.util.Map<LoraAdapter, Float> start = new java.util.LinkedHashMap<>(); // ids in this order
        start.put(lora, 1f);
        start.put(loraB, 0f);
        try (LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).slots(2).build(), null,
                ctx -> ctx.setLoraAdapters(start))) {
            // per request, at once on 2 slots: each set decodes apart, as llama-server batches them
            List<String> lists = List.of("[{\"id\": 0, \"scale\": 0.5}]", "[{\"id\": 1, \"scale\": 1}]",
                    "[{\"id\": 0, \"scale\": 0}]", "[{\"id\": 0, \"scale\": 1}, {\"id\": 1, \"scale\": 0.5}]",
                    "[]", "null");
            List<String> expected = List.of(alone(java.util.Map.of(lora, 0.5f)), alone(java.util.Map.of(loraB, 1f)),
                    alone(ctx -> { }), alone(java.util.Map.of(lora, 1f, loraB, 0.5f)),
                    alone(java.util.Map.of(lora, 1f)), alone(java.util.Map.of(lora, 1f)));
            List<CompletableFuture<Reply>> replies = new java.util.ArrayList<>();
            for (String l : lists) {
                replies.add(CompletableFuture.supplyAsync(() -> post(s.baseUrl() + "/v1/completions",
                        completion(",\"lora\":" + l))));
            }
            for (int i = 0; i < lists.size(); i++) {
                assertEquals(expected.get(i), text(replies.get(i).join()), "lora " + lists.get(i));
            }
            // chat takes it too
            Reply chat = post(s.baseUrl() + "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":"
                    + "\"hi\"}],\"max_tokens\":8,\"temperature\":0,\"lora\":[{\"id\":1,\"scale\":1}]}");
            assertEquals(200, chat.status(), chat.raw().body());
            for (String bad : new String[] {"5", "[{\"id\": 9, \"scale\": 1}]", "[{\"scale\": 1}]",
                    "[{\"id\": 0, \"scale\": true}]", "[{\"id\": 0.5}]"}) {
                Reply r = post(s.baseUrl() + "/v1/completions", completion(",\"lora\":" + bad));
                assertEquals(400, r.status(), bad + ": " + r.raw().body());
                assertEquals("lora", r.error().get("param").asText(), bad);
            }
            assertEquals(alone(java.util.Map.of(lora, 1f)), text(post(s.baseUrl() + "/v1/completions", completion(""))),
                    "the server serves on with its own adapters");
        }
    }
}
