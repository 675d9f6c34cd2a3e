package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;

/**
 * The engine's prompt cache ({@link EngineParams#promptCacheBytes()}, llama-server's
 * {@code --cache-ram} with its idle-slot saving): when a request starts, idle slots leave the KV
 * cache for host memory; a later request whose prompt a saved cache shares restores it and
 * evaluates only the rest, and generates what a {@link Sequence} generates alone. Off (0), idle
 * slots keep their KV and a slot's cache is lost to the next request that takes the slot.
 */
class PromptCacheTest {
    @TempDir
    static Path tmp;
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(TestSupport.writeTinyModel(tmp));
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static int[] prompt(String text) {
        return model.vocabulary().tokenize(text, true, true);
    }

    /** Greedy tokens through a Sequence of its own context. */
    static int[] alone(int[] prompt) {
        try (org.llamajava.Context ctx = model.createContext(org.llamajava.ContextParams.builder().contextSize(256).threads(1)
                .build()); Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            return s.generate(prompt, greedy, GenerateOptions.maxTokens(12)).tokens();
        }
    }

    /** Prompt tokens {@code y} reuses from a cache of {@code x}: their common prefix, less y's last token. */
    static int shared(int[] x, int[] y) {
        int n = 0;
        while (n < x.length && n < y.length && x[n] == y[n]) {
            n++;
        }
        return Math.min(n, y.length - 1);
    }

    /**
     * Runs x and y at once, in two slots: x's first token waits until y is queued (the callback
     * holds the engine's thread), so y starts while x still runs.
     */
    static int[][] together(BatchEngine e, int[] x, int[] y) {
        java.util.concurrent.CountDownLatch queued = new java.util.concurrent.CountDownLatch(1);
        GenerateOptions hold = GenerateOptions.builder().maxTokens(12).onToken(t -> {
            try {
                queued.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }).build();
        BatchHandle hx = e.submit(new BatchRequest(x, Sampler.builder().greedy(), hold));
        BatchHandle hy = e.submit(new BatchRequest(y, Sampler.builder().greedy(), GenerateOptions.maxTokens(12)));
        queued.countDown();
        return new int[][] {hx.completion().join().tokens(), hy.completion().join().tokens()};
    }

    static Completion run(BatchEngine e, int[] prompt) {
        return e.submit(new BatchRequest(prompt, Sampler.builder().greedy(), GenerateOptions.maxTokens(12)))
                .completion().join();
    }

    static final String A = "Once upon a time there was a little girl named Lily who liked to play in the park";
    static final String B = "The big brown dog ran across the green field to find his friend the cat";
    static final String C = "Tom had a red ball and a blue kite and he went outside with his mom";

    @Test
    void aSavedCacheComesBackForTheNextRequestThatSharesIt() {
        int[] a = prompt(A);
        int[] b = prompt(B);
        int[] a2 = prompt(A + " every day");
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256).threads(1).build())) {
            Completion first = run(e, a);
            Completion other = run(e, b); // takes the only slot: A's cache is saved first
            assertEquals(shared(a, b), other.cachedTokens(), "B reuses only what it shares with A");
            Completion again = run(e, a);
            assertEquals(a.length - 1, again.cachedTokens(), "A's cache came back from host memory");
            assertArrayEquals(first.tokens(), again.tokens());
            Completion longer = run(e, a2);
            assertTrue(longer.cachedTokens() >= a.length - 1, "A's prompt is a prefix of A2's: " + longer.cachedTokens());
            assertArrayEquals(alone(a2), longer.tokens());
            assertEquals(b.length - 1, run(e, b).cachedTokens(), "B was saved when A came back");
            EngineStats st = e.stats();
            assertEquals(2, st.promptCacheRestores(), "A, then B, came back from host memory");
            assertTrue(st.promptCacheEntries() >= 1 && st.promptCacheBytes() > 0, st.toString());
        }
        // off: the slot's previous cache is lost
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256).threads(1)
                .promptCacheBytes(0).build())) {
            run(e, a);
            run(e, b);
            assertEquals(shared(a, b), run(e, a).cachedTokens());
            assertEquals(0, e.stats().promptCacheEntries());
            assertEquals(0, e.stats().promptCacheRestores());
        }
        // too small to hold a cache: nothing is saved, nothing goes wrong
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256).threads(1)
                .promptCacheBytes(16).build())) {
            Completion first = run(e, a);
            run(e, b);
            Completion again = run(e, a);
            assertEquals(shared(a, b), again.cachedTokens());
            assertArrayEquals(first.tokens(), again.tokens());
        }
    }

    @Test
    void idleSlotsLeaveTheKvCacheWhenARequestStarts() {
        int[] a = prompt(A);
        int[] b = prompt(B);
        int[] c = prompt(C);
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(3).contextSize(3 * 128).threads(1).build())) {
            int[][] ab = together(e, a, b);
            int[] ta = ab[0];
            int[] tb = ab[1];
            Completion cc = run(e, c);
            // C started: A's and B's slots were idle, so their caches left the KV cache
            List<Integer> held = new ArrayList<>();
            for (int[] t : e.cachedTokens()) {
                held.add(t.length);
            }
            assertEquals(1, held.stream().filter(n -> n > 0).count(), "only C's slot holds tokens: " + held);
            assertArrayEquals(alone(c), cc.tokens());
            // and both come back, each generating what it generated before
            Completion a2 = run(e, a);
            assertEquals(a.length - 1, a2.cachedTokens());
            assertArrayEquals(ta, a2.tokens());
            Completion b2 = run(e, b);
            assertEquals(b.length - 1, b2.cachedTokens());
            assertArrayEquals(tb, b2.tokens());
        }
        // off: idle slots keep their KV
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(3).contextSize(3 * 128).threads(1)
                .promptCacheBytes(0).build())) {
            together(e, a, b);
            run(e, c);
            assertEquals(2, e.cachedTokens().stream().filter(t -> t.length > 0).count(), "C's slot and the other idle one");
        }
    }

    static Completion runIn(BatchEngine e, int[] prompt, int slot) {
        return e.submit(new BatchRequest(prompt, Sampler.builder().greedy(), GenerateOptions.maxTokens(12)), slot)
                .completion().join();
    }

    /**
     * llama-server's {@code --cache-idle-slots} (its test_kv_keep_only_active): A runs in slot 0,
     * then B in slot 1, which saves slot 0 into the prompt cache and clears it; A again restores
     * its cache and evaluates only its last token, generating what it generated before. With the
     * flag off, slot 0 keeps its KV when B starts, and nothing is saved.
     */
    @Test
    void aRequestStartingInOneSlotSavesAndClearsTheOtherIdleSlots() {
        int[] a = prompt(A);
        int[] b = prompt(B);
        for (boolean unified : new boolean[] {false, true}) {
            try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(512).threads(1)
                    .unifiedKv(unified).build())) {
                Completion first = runIn(e, a, 0);
                assertEquals(0, first.cachedTokens());
                assertEquals(0, e.stats().promptCacheEntries(), "slot 0 was the only slot with KV: nothing saved");
                runIn(e, b, 1);
                assertEquals(0, e.cachedTokens().get(0).length, "B's start cleared idle slot 0");
                assertEquals(1, e.stats().promptCacheEntries(), "slot 0's cache was saved");
                Completion again = run(e, a);
                assertEquals(a.length - 1, again.cachedTokens(), "A came back from the prompt cache");
                assertTrue(a.length - again.cachedTokens() < a.length - first.cachedTokens(), "fewer prompt tokens evaluated");
                assertArrayEquals(first.tokens(), again.tokens());
                assertEquals(1, e.stats().promptCacheRestores());
            }
        }
        // --no-cache-idle-slots: slot 0 keeps its KV while B runs in slot 1, and nothing is saved
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(512).threads(1)
                .unifiedKv(true).cacheIdleSlots(false).build())) {
            runIn(e, a, 0);
            runIn(e, b, 1);
            int[] held = e.cachedTokens().get(0);
            assertTrue(held.length > a.length, "slot 0 still holds A and its reply: " + held.length);
            assertArrayEquals(a, Arrays.copyOf(held, a.length));
            assertEquals(0, e.stats().promptCacheEntries());
            Completion again = runIn(e, a, 0);
            assertEquals(a.length - 1, again.cachedTokens(), "A reuses slot 0's own KV");
            assertEquals(0, e.stats().promptCacheRestores());
        }
        assertTrue(EngineParams.defaults().cacheIdleSlots(), "on by default, as llama-server's");
    }

    @Test
    void badSizesAreRefused() {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                () -> EngineParams.builder().promptCacheBytes(-2).build());
        assertTrue(x.getMessage().contains("promptCacheBytes"), x.getMessage());
        assertEquals(-1, EngineParams.builder().promptCacheBytes(-1).build().promptCacheBytes());
        assertTrue(EngineParams.defaults().promptCacheBytes() > 0);
        assertTrue(EngineParams.defaults().promptCacheBytes() <= 8L << 30);
    }
}
