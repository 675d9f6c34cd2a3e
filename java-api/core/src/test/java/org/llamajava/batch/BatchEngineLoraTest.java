package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.AdapterFiles;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Per-request LoRA adapters in the batching engine (llama-server's per-request {@code lora}):
 * requests with different adapters and scales, submitted at once, each generate what a
 * {@link Sequence} generates with those adapters applied to its context (which
 * {@code LoraAdapterTest} checks against llama.cpp's {@code llama-export-lora}); a slot's cache is
 * reused only under the same adapters; the engine's default adapters change for later requests.
 */
class BatchEngineLoraTest {
    @TempDir
    static Path tmp;
    static Model model;
    static LoraAdapter a;
    static LoraAdapter b;
    static final ModelShape SHAPE = AdapterFiles.SHAPE;
    static final int N = 16;

    @BeforeAll
    static void write() {
        model = Model.load(AdapterFiles.writeBase(tmp.resolve("base.gguf"), SHAPE));
        a = LoraAdapter.load(model, AdapterFiles.writeLora(tmp.resolve("lora-a.gguf"), "llama", SHAPE, 4, 8f, 1));
        b = LoraAdapter.load(model, AdapterFiles.writeLora(tmp.resolve("lora-b.gguf"), "llama", SHAPE, 2, 6f, 2));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close(); // closes the adapters too
        }
    }

    static int[] prompt(String text) {
        return model.vocabulary().tokenize(text, true, true);
    }

    /** Greedy tokens through a Sequence of a context that applies {@code adapters}. */
    static int[] alone(int[] prompt, Map<LoraAdapter, Float> adapters) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build())) {
            ctx.setLoraAdapters(adapters);
            try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                return s.generate(prompt, greedy, GenerateOptions.maxTokens(N)).tokens();
            }
        }
    }

    static Map<LoraAdapter, Float> of(Object... pairs) {
        Map<LoraAdapter, Float> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((LoraAdapter) pairs[i], ((Number) pairs[i + 1]).floatValue());
        }
        return m;
    }

    static BatchRequest greedy(int[] prompt, Map<LoraAdapter, Float> adapters) {
        return new BatchRequest(prompt, Sampler.builder().greedy(), GenerateOptions.maxTokens(N), adapters);
    }

    @Test
    void requestsWithDifferentAdaptersEachGenerateWhatTheirAdaptersGive() {
        List<Map<LoraAdapter, Float>> configs = List.of(of(), of(a, 1), of(a, 0.5), of(b, 1), of(a, 1, b, 0.5),
                of(b, 0.5, a, 1), of(a, 0));
        String[] texts = {"Once upon a time", "The little dog", "Once upon a time there"};
        List<int[]> prompts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (Map<LoraAdapter, Float> c : configs) {
            for (String t : texts) {
                prompts.add(prompt(t));
                expected.add(alone(prompt(t), c));
            }
        }
        assertFalse(Arrays.equals(expected.get(0), expected.get(texts.length)),
                "adapter a must change the text for this test to mean anything");
        assertFalse(Arrays.equals(expected.get(texts.length), expected.get(2 * texts.length)),
                "the scale must change the text for this test to mean anything");
        // 3 slots for 21 requests of 7 adapter sets: requests wait, slots change sets, sets alternate
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(3).contextSize(3 * 128).threads(1)
                .maxQueue(64).build())) {
            List<BatchHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                handles.add(e.submit(greedy(prompts.get(i), configs.get(i / texts.length))));
            }
            for (int i = 0; i < handles.size(); i++) {
                assertArrayEquals(expected.get(i), handles.get(i).completion().join().tokens(),
                        "request " + i + " with adapters " + configs.get(i / texts.length));
            }
        }
    }

    @Test
    void aCachedPrefixIsReusedOnlyUnderTheSameAdapters() {
        int[] p = prompt("Once upon a time there was a little dog");
        // without the prompt cache: a slot's cache is reused only by a request with its adapters
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(128).threads(1)
                .promptCacheBytes(0).build())) {
            Completion first = e.submit(greedy(p, of(a, 1))).completion().join();
            assertEquals(0, first.cachedTokens());
            Completion other = e.submit(greedy(p, of())).completion().join();
            assertEquals(0, other.cachedTokens(), "the cache was evaluated with adapter a: none of it is reused");
            assertArrayEquals(alone(p, of()), other.tokens());
            Completion same = e.submit(greedy(p, null)).completion().join(); // the engine's: none
            assertEquals(p.length - 1, same.cachedTokens(), "same adapters: the prompt is reused but its last token");
            assertArrayEquals(other.tokens(), same.tokens());
            Completion back = e.submit(greedy(p, of(a, 1, b, 0))).completion().join(); // scale 0: as if absent
            assertEquals(0, back.cachedTokens());
            assertArrayEquals(first.tokens(), back.tokens());
            Completion again = e.submit(greedy(p, of(a, 1))).completion().join();
            assertEquals(p.length - 1, again.cachedTokens(), "{a: 1, b: 0} and {a: 1} are the same weights");
        }
        // with it, the caches of both sets are kept in host memory and each comes back for its set
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(128).threads(1).build())) {
            Completion first = e.submit(greedy(p, of(a, 1))).completion().join();
            Completion other = e.submit(greedy(p, of())).completion().join();
            assertEquals(0, other.cachedTokens(), "nothing saved under no adapters yet");
            Completion back = e.submit(greedy(p, of(a, 1, b, 0))).completion().join();
            assertEquals(p.length - 1, back.cachedTokens(), "adapter a's cache, saved when the slot changed sets");
            assertArrayEquals(first.tokens(), back.tokens());
            Completion plain = e.submit(greedy(p, null)).completion().join();
            assertEquals(p.length - 1, plain.cachedTokens());
            assertArrayEquals(other.tokens(), plain.tokens());
        }
    }

    @Test
    void theEngineAdaptersServeRequestsThatNameNone() {
        int[] p = prompt("Once upon a time");
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(256).threads(1).build(),
                ctx -> ctx.setLoraAdapters(of(a, 0.5f, b, 0f)))) {
            assertEquals(of(a, 0.5f, b, 0f), e.loraAdapters(), "the setup's adapters, zero scales kept, in order");
            assertEquals(List.of(a, b), new ArrayList<>(e.loraAdapters().keySet()));
            assertArrayEquals(alone(p, of(a, 0.5f)), e.submit(greedy(p, null)).completion().join().tokens());
            e.setLoraAdapters(of(b, 1));
            assertEquals(of(b, 1), e.loraAdapters());
            assertArrayEquals(alone(p, of(b, 1)), e.submit(greedy(p, null)).completion().join().tokens());
            assertArrayEquals(alone(p, of(a, 0.5f)), e.submit(greedy(p, of(a, 0.5f))).completion().join().tokens());
            e.setLoraAdapters(of());
            assertArrayEquals(alone(p, of()), e.submit(greedy(p, null)).completion().join().tokens());
        }
    }

    @Test
    void badAdaptersAreRefusedAndAdaptersInUseCannotBeClosed() throws Exception {
        Path otherBase = tmp.resolve("other.gguf");
        new LlamaModelWriter(SHAPE, TestSupport.tinyVocabulary()).seed(12).write(otherBase);
        int[] p = prompt("Once upon a time");
        try (Model other = Model.load(otherBase);
             LoraAdapter foreign = LoraAdapter.load(other, tmp.resolve("lora-a.gguf"))) {
            LoraAdapter mine = LoraAdapter.load(model, tmp.resolve("lora-b.gguf"));
            LoraAdapter closed = LoraAdapter.load(model, tmp.resolve("lora-b.gguf"));
            closed.close();
            try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(128).threads(1).build())) {
                IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.submit(greedy(p, of(foreign, 1))));
                assertTrue(x.getMessage().contains("another"), x.getMessage());
                assertThrows(IllegalArgumentException.class, () -> e.setLoraAdapters(of(foreign, 1)));
                assertThrows(IllegalStateException.class, () -> e.submit(greedy(p, of(closed, 1))));
                assertThrows(IllegalArgumentException.class, () -> greedy(p, of(mine, Float.NaN)));
                assertEquals(Map.of(), e.loraAdapters(), "a refused call changes nothing");
                Completion c = e.submit(greedy(p, of(mine, 1))).completion().join();
                assertArrayEquals(alone(p, of(mine, 1)), c.tokens());
                IllegalStateException busy = assertThrows(IllegalStateException.class, mine::close);
                assertTrue(busy.getMessage().contains("applied"), busy.getMessage());
                assertFalse(mine.isClosed());
            }
            mine.close(); // the engine closed: no longer in use
            assertTrue(mine.isClosed());
        }
    }
}
