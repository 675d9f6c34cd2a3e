package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.ModelShape;

/**
 * LoRA adapters against llama.cpp's own {@code llama-export-lora} (built from the same source):
 * greedy generation with an adapter applied at some scale equals generation with the model that
 * llama-export-lora merged with that adapter at that scale; scale 0 and removal equal the base model.
 */
class LoraAdapterTest {
    static final String PROMPT = "Once upon a time";
    static final int N = 24;

    @TempDir
    static Path tmp;
    static Path base;
    static Path loraA;
    static Path loraB;
    static Model model;

    @BeforeAll
    static void write() {
        base = tmp.resolve("base.gguf");
        AdapterFiles.writeBase(base, ModelShape.tiny());
        loraA = AdapterFiles.writeLora(tmp.resolve("lora-a.gguf"), "llama", ModelShape.tiny(), 4, 8f, 1);
        loraB = AdapterFiles.writeLora(tmp.resolve("lora-b.gguf"), "llama", ModelShape.tiny(), 2, 2f, 2);
        model = Model.load(base);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static int[] generate(Context ctx) {
        try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            return s.generate(ctx.model().vocabulary().tokenize(PROMPT, true, true), greedy, GenerateOptions.maxTokens(N)).tokens();
        }
    }

    static int[] generate(Path modelFile) {
        try (Model m = Model.load(modelFile); Context ctx = m.createContext(ContextParams.builder().contextSize(256).build())) {
            return generate(ctx);
        }
    }

    static Path merged(String name, String... loraArgs) throws Exception {
        Path out = tmp.resolve(name);
        // llama.cpp builds llama-export-lora only with its backends linked in, not for a portable
        // (GGML_BACKEND_DL) or GPU build: there the oracle comparisons are skipped
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(TestSupport.tool("llama-export-lora")),
                "llama-export-lora is not built with GGML_BACKEND_DL (a portable or GPU build)");
        if (!out.toFile().exists()) {
            String[] args = new String[4 + loraArgs.length + 2];
            args[0] = "-m";
            args[1] = base.toString();
            args[2] = "-o";
            args[3] = out.toString();
            System.arraycopy(loraArgs, 0, args, 4, loraArgs.length);
            args[args.length - 2] = "-t";
            args[args.length - 1] = "1";
            TestSupport.Run r = TestSupport.runTool("llama-export-lora", args);
            assertEquals(0, r.exitCode(), "llama-export-lora failed: " + r.stderr());
        }
        return out;
    }

    @Test
    void scaleOneEqualsTheModelMergedByLlamaExportLora() throws Exception {
        int[] expected = generate(merged("merged-a.gguf", "--lora", loraA.toString()));
        int[] plain = generate(base);
        assertFalse(java.util.Arrays.equals(expected, plain), "the adapter must change the text for this test to mean anything");
        try (LoraAdapter a = LoraAdapter.load(model, loraA);
             Context ctx = model.createContext(ContextParams.builder().contextSize(256).build())) {
            ctx.setLoraAdapter(a, 1f);
            assertArrayEquals(expected, generate(ctx));
            ctx.removeLoraAdapter(a);
            assertArrayEquals(plain, generate(ctx), "after removal: the base model's text");
            ctx.setLoraAdapter(a, 0f);
            assertArrayEquals(plain, generate(ctx), "scale 0: the base model's text");
            ctx.setLoraAdapter(a, 1f);
            assertArrayEquals(expected, generate(ctx), "applied again");
            ctx.clearLoraAdapters();
            assertTrue(ctx.loraAdapters().isEmpty());
        }
    }

    @Test
    void twoAdaptersWithScalesEqualTheMergeOfBoth() throws Exception {
        int[] expected = generate(merged("merged-ab.gguf", "--lora-scaled", loraA + ":0.5," + loraB + ":1.5"));
        try (LoraAdapter a = LoraAdapter.load(model, loraA);
             LoraAdapter b = LoraAdapter.load(model, loraB);
             Context ctx = model.createContext(ContextParams.builder().contextSize(256).build())) {
            Map<LoraAdapter, Float> both = new LinkedHashMap<>();
            both.put(a, 0.5f);
            both.put(b, 1.5f);
            ctx.setLoraAdapters(both);
            assertEquals(both, ctx.loraAdapters());
            assertArrayEquals(expected, generate(ctx));
            // changed between generations without reloading: only A at 1 is the first merge
            ctx.setLoraAdapters(Map.of(a, 1f));
            assertArrayEquals(generate(merged("merged-a.gguf", "--lora", loraA.toString())), generate(ctx));
        }
    }

    @Test
    void metadataIsReadBack() {
        try (LoraAdapter a = LoraAdapter.load(model, loraA)) {
            assertEquals(8f, a.alpha());
            assertEquals("lora", a.metadata("adapter.type"));
            assertEquals("adapter", a.metadata().get("general.type"));
            assertEquals("llama-java test adapter 1", a.metadata("general.name"));
            assertEquals(null, a.metadata("no.such.key"));
            assertEquals(0, a.invocationTokens().length);
            assertEquals(model, a.model());
        }
    }

    @Test
    void adaptersForAnotherModelAreClearErrors() {
        Path otherArch = AdapterFiles.writeLora(tmp.resolve("qwen2.gguf"), "qwen2", ModelShape.tiny(), 4, 8f, 3);
        LlamaException e = assertThrows(LlamaException.class, () -> LoraAdapter.load(model, otherArch));
        assertTrue(e.getMessage().contains("architecture 'qwen2'"), e.getMessage());

        ModelShape wider = new ModelShape(128, 2, 4, 2, 256, 512);
        Path otherShape = AdapterFiles.writeLora(tmp.resolve("wide.gguf"), "llama", wider, 4, 8f, 4);
        e = assertThrows(LlamaException.class, () -> LoraAdapter.load(model, otherShape));
        assertTrue(e.getMessage().contains("made for another model"), e.getMessage());

        ModelShape deeper = new ModelShape(64, 3, 4, 2, 128, 512);
        Path moreLayers = AdapterFiles.writeLora(tmp.resolve("deep.gguf"), "llama", deeper, 4, 8f, 5);
        e = assertThrows(LlamaException.class, () -> LoraAdapter.load(model, moreLayers));
        assertTrue(e.getMessage().contains("blk.2.") && e.getMessage().contains("does not have"), e.getMessage());

        e = assertThrows(LlamaException.class, () -> LoraAdapter.load(model, base));
        assertTrue(e.getMessage().contains("is not an adapter"), e.getMessage());
        Path cvec = AdapterFiles.writeControlVector(tmp.resolve("cv.gguf"), 64, 2, 1, 0.1f);
        assertThrows(LlamaException.class, () -> LoraAdapter.load(model, cvec));
        assertThrows(LlamaException.class, () -> LoraAdapter.load(model, tmp.resolve("missing.gguf")));

        // an adapter of one Model object cannot be applied to another's context
        try (Model other = Model.load(base);
             LoraAdapter a = LoraAdapter.load(other, loraA);
             Context ctx = model.createContext(ContextParams.builder().contextSize(64).build())) {
            IllegalArgumentException iae = assertThrows(IllegalArgumentException.class, () -> ctx.setLoraAdapter(a, 1f));
            assertTrue(iae.getMessage().contains("another Model"), iae.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ctx.setLoraAdapter(a, Float.NaN));
        }
    }

    @Test
    void lifecycle() {
        LoraAdapter a = LoraAdapter.load(model, loraA);
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(64).build())) {
            ctx.setLoraAdapter(a, 1f);
            IllegalStateException e = assertThrows(IllegalStateException.class, a::close);
            assertTrue(e.getMessage().contains("still applied"), e.getMessage());
            ctx.removeLoraAdapter(a);
            a.close();
            assertTrue(a.isClosed());
            a.close(); // idempotent
            assertThrows(IllegalStateException.class, () -> ctx.setLoraAdapter(a, 1f));
            assertThrows(IllegalStateException.class, a::alpha);
        }
        // closing the model closes its adapters (and contexts that apply them)
        Model m = Model.load(base);
        LoraAdapter b = LoraAdapter.load(m, loraB);
        Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
        ctx.setLoraAdapter(b, 1f);
        m.close();
        assertTrue(b.isClosed());
        assertTrue(ctx.isClosed());
        b.close();
        assertThrows(IllegalStateException.class, () -> LoraAdapter.load(m, loraB));
    }
}
