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
import org.llamajava.TestSupport;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.server.ServerFixture.Reply;

/**
 * {@link LlamaServer#start(Model, ServerConfig, org.llamajava.multimodal.Projector, Consumer)}: a
 * LoRA adapter and a control vector applied by the context setup hold for every slot (two
 * requests at once each get the text a {@link Sequence} gives with the same adapters), and a
 * setup that fails, or one for a server that does not generate, is refused at start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerAdaptersTest {
    static final ModelShape SHAPE = new ModelShape(64, 4, 4, 2, 128, 512);
    static final String PROMPT = "Once upon a time";

    @TempDir
    static Path tmp;
    private Model model;
    private LoraAdapter lora;
    private ControlVector vector;

    @BeforeAll
    void write() {
        Path base = tmp.resolve("base.gguf");
        new LlamaModelWriter(SHAPE, TestSupport.tinyVocabulary()).seed(11).scale(4f).write(base);
        model = Model.load(base);
        lora = LoraAdapter.load(model, AdapterFiles.writeLora(tmp.resolve("lora.gguf"), "llama", SHAPE, 4, 8f, 1));
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
}
