package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/** KV memory per sequence: prefix reuse, fork, truncate, shift, stop strings, streaming. */
class SequenceTest {
    @TempDir
    static Path tmp;
    static Model model;

    @BeforeAll
    static void load() {
        // a written model with enough spread in its weights to produce varied text
        Path p = tmp.resolve("seq.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(21).scale(4f).write(p);
        model = Model.load(p);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Greedy continuation of {@code prompt} in a fresh context: the reference for every reuse. */
    static Completion fresh(int[] prompt, int n) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            return s.generate(prompt, g, GenerateOptions.maxTokens(n));
        }
    }

    @Test
    void secondTurnEvaluatesOnlyNewTokensAndMatchesAFreshRun() {
        int[] turn1 = model.vocabulary().tokenize("Once upon a time the girl");
        int[] user2 = model.vocabulary().tokenize(" and the dog played", false, false);
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            Completion r1 = s.generate(turn1, g, GenerateOptions.maxTokens(12));
            assertEquals(turn1.length, r1.promptTokens());
            assertEquals(0, r1.cachedTokens());
            int[] history = concat(turn1, r1.tokens(), user2);
            Completion r2 = s.generate(history, g, GenerateOptions.maxTokens(12));
            // everything but the last generated token (never evaluated) comes from the cache
            assertEquals(turn1.length + r1.tokens().length - 1, r2.cachedTokens());
            assertEquals(user2.length + 1, r2.promptTokens());
            assertArrayEquals(fresh(history, 12).tokens(), r2.tokens(), "same reply as a fresh evaluation");
            // an edited prompt reuses the common prefix only
            int[] edited = concat(Arrays.copyOf(turn1, 3), user2);
            Completion r3 = s.generate(edited, g, GenerateOptions.maxTokens(8));
            assertEquals(3, r3.cachedTokens());
            assertArrayEquals(fresh(edited, 8).tokens(), r3.tokens());
        }
    }

    @Test
    void forkedSequencesContinueIndependently() {
        int[] prefix = model.vocabulary().tokenize("Once upon a time");
        int[] a = model.vocabulary().tokenize(" the cat", false, false);
        int[] b = model.vocabulary().tokenize(" Tom and Lily", false, false);
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(512).sequences(3).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            s.append(prefix);
            try (Sequence f = s.fork()) {
                assertArrayEquals(s.tokens(), f.tokens());
                assertNotEquals(s.id(), f.id());
                Completion ca = s.generate(concat(prefix, a), g, GenerateOptions.maxTokens(10));
                Completion cb = f.generate(concat(prefix, b), g, GenerateOptions.maxTokens(10));
                assertEquals(prefix.length, ca.cachedTokens());
                assertEquals(prefix.length, cb.cachedTokens(), "the fork reuses the copied prefix");
                assertArrayEquals(fresh(concat(prefix, a), 10).tokens(), ca.tokens());
                assertArrayEquals(fresh(concat(prefix, b), 10).tokens(), cb.tokens());
                // interleaving: continue the first again after the fork decoded
                Completion again = s.generate(g, GenerateOptions.maxTokens(4));
                assertEquals(4, again.tokens().length);
            }
        }
    }

    @Test
    void truncateClearAndSequenceLimits() {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).sequences(2).build());
             Sampler g = Sampler.greedy()) {
            Sequence s1 = ctx.newSequence();
            Sequence s2 = ctx.newSequence();
            IllegalStateException full = assertThrows(IllegalStateException.class, ctx::newSequence);
            assertTrue(full.getMessage().contains("sequences"), full.getMessage());
            int[] p = model.vocabulary().tokenize("Once upon a time the girl");
            s1.append(p);
            s2.append(p);
            assertEquals(2 * p.length, ctx.tokensHeld());
            s1.truncate(3);
            assertArrayEquals(Arrays.copyOf(p, 3), s1.tokens());
            assertThrows(IllegalArgumentException.class, () -> s1.truncate(10));
            s1.clear();
            assertEquals(0, s1.length());
            assertThrows(IllegalStateException.class, () -> s1.generate(g, GenerateOptions.maxTokens(1)));
            s2.close();
            assertThrows(IllegalStateException.class, () -> s2.append(p));
            Sequence s3 = ctx.newSequence();
            assertEquals(s2.id(), s3.id(), "a closed sequence's id is reused");
            assertEquals(0, s3.length());
            assertTrue(ctx.kvCacheBytes() > 0);
        }
    }

    @Test
    void contextShiftKeepsGeneratingAndKeepsThePrefix() {
        int[] prompt = model.vocabulary().tokenize("Once upon a time the girl");
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256)
                .overflow(OverflowPolicy.shift(4)).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.builder().temperature(1f).dist(3).build()) {
            assertTrue(ctx.canShift());
            int n = ctx.contextSize() + 150;
            Completion c = s.generate(prompt, g, GenerateOptions.builder().maxTokens(n).build());
            int eog = c.finishReason() == FinishReason.END_OF_GENERATION ? 1 : 0;
            assertTrue(c.tokens().length > ctx.contextSize() || eog == 1, "generated past n_ctx");
            assertTrue(s.length() <= ctx.contextSize());
            assertArrayEquals(Arrays.copyOf(prompt, 4), Arrays.copyOf(s.tokens(), 4), "the kept prefix is intact");
        }
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.builder().temperature(1f).dist(3).build()) {
            ContextOverflowException e = assertThrows(ContextOverflowException.class,
                    () -> s.generate(prompt, g, GenerateOptions.maxTokens(ctx.contextSize() + 150)));
            assertTrue(e.partial().tokens().length > 0);
        }
    }

    @Test
    void stopStringsSplitAcrossTokensAreNeverEmitted() {
        int[] prompt = model.vocabulary().tokenize("Once upon a time");
        List<String> pieces = new ArrayList<>();
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            Completion all = s.generate(prompt, g, GenerateOptions.builder().maxTokens(40).onText(pieces::add).build());
            assertTrue(pieces.size() >= 6, "enough pieces: " + pieces);
            // a stop string from the end of piece 3 into piece 4 (and maybe further)
            int boundary = pieces.get(0).length() + pieces.get(1).length() + pieces.get(2).length();
            String text = all.text();
            String stop = text.substring(boundary - 1, Math.min(text.length(), boundary + 3));
            int at = text.indexOf(stop);
            List<String> streamed = new ArrayList<>();
            Completion stopped = s.generate(prompt, g, GenerateOptions.builder().maxTokens(40).stop("never-there", stop)
                    .onText(streamed::add).build());
            assertEquals(FinishReason.STOP_STRING, stopped.finishReason());
            assertEquals(text.substring(0, at), stopped.text());
            assertEquals(stopped.text(), String.join("", streamed));
            assertTrue(streamed.stream().noneMatch(p -> p.contains(stop)));
        }
    }

    @Test
    void streamingGivesTheSameTextAsGenerate() {
        int[] prompt = model.vocabulary().tokenize("Once upon a time");
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            String expected = s.generate(prompt, g, GenerateOptions.maxTokens(20)).text();
            String streamed;
            try (var stream = s.stream(prompt, g, GenerateOptions.maxTokens(20))) {
                streamed = stream.collect(Collectors.joining());
            }
            assertEquals(expected, streamed);
            try (var stream = s.stream(prompt, g, GenerateOptions.maxTokens(20))) {
                assertEquals(expected.isEmpty() ? 0 : 1, stream.limit(1).count(), "a stream can stop early");
            }
        }
    }

    @Test
    void quantizedKvCacheWithFlashAttention() {
        // quantized cache rows need a head size that is a multiple of the block size (32)
        Path p = tmp.resolve("head64.gguf");
        new LlamaModelWriter(new ModelShape(128, 2, 2, 1, 256, 512), TestSupport.tinyVocabulary()).write(p);
        try (Model model = Model.load(p)) {
            kvCache(model);
        }
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).kvCacheType(KvCacheType.Q8_0)
                .flashAttention(FlashAttention.ENABLED).build())) {
            throw new AssertionError("head size 16 cannot hold a q8_0 cache");
        } catch (LlamaException e) {
            assertTrue(e.getMessage().contains("q8_0"), e.getMessage());
        }
    }

    private static void kvCache(Model model) {
        int[] prompt = model.vocabulary().tokenize("Once upon a time");
        long f16;
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build())) {
            f16 = ctx.kvCacheBytes();
        }
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).kvCacheType(KvCacheType.Q8_0)
                .flashAttention(FlashAttention.ENABLED).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            assertTrue(ctx.kvCacheBytes() < f16, ctx.kvCacheBytes() + " < " + f16);
            assertEquals(10, s.generate(prompt, g, GenerateOptions.maxTokens(10)).tokens().length);
        }
        assertThrows(IllegalArgumentException.class, () -> ContextParams.builder().valueType(KvCacheType.Q4_0)
                .flashAttention(FlashAttention.DISABLED).build());
    }
}
