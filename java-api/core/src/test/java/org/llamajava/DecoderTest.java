package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * The one decode path: a batch holding several sequences' tokens gives each sequence the same
 * logits and the same greedy continuation as decoding it alone (the oracle), and the abort
 * signal is registered once per generation.
 */
class DecoderTest {
    @TempDir
    Path tmp;

    private Path model() {
        Path p = tmp.resolve("decoder.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(p);
        return p;
    }

    private static float[] copy(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": vocabulary size");
        float scale = 0;
        for (float f : expected) {
            scale = Math.max(scale, Math.abs(f));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-3f * Math.max(1f, scale), what + ": logit " + i);
        }
    }

    @Test
    void oneBatchOfTwoSequencesMatchesDecodingEachAlone() {
        try (Model m = Model.load(model());
             Sampler g1 = Sampler.greedy();
             Sampler g2 = Sampler.greedy()) {
            int[] a = m.vocabulary().tokenize("Once upon a time the little girl");
            int[] b = m.vocabulary().tokenize("the dog and the cat");
            float[] aloneA;
            float[] aloneB;
            int[] nextA = new int[4];
            int[] nextB = new int[4];
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(256).sequences(2).build())) {
                Sequence sa = ctx.newSequence();
                Sequence sb = ctx.newSequence();
                sa.append(a);
                aloneA = copy(ctx.decoder().logits(sa.id()));
                sb.append(b);
                aloneB = copy(ctx.decoder().logits(sb.id()));
                assertFalse(ctx.decoder().hasLogits(sa.id()), "a later decode replaces the earlier logits");
                int[] ta = sa.generate(g1, GenerateOptions.maxTokens(4)).tokens();
                int[] tb = sb.generate(g1, GenerateOptions.maxTokens(4)).tokens();
                System.arraycopy(ta, 0, nextA, 0, 4);
                System.arraycopy(tb, 0, nextB, 0, 4);
            }
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(256).sequences(2).build())) {
                int ida = ctx.newSequence().id();
                int idb = ctx.newSequence().id();
                Decoder d = ctx.decoder();
                for (int i = 0; i < a.length; i++) {
                    d.add(ida, a[i], i, i == a.length - 1);
                }
                for (int i = 0; i < b.length; i++) {
                    d.add(idb, b[i], i, i == b.length - 1);
                }
                assertEquals(a.length + b.length, d.rows());
                assertEquals(0, d.decode(), "one llama_decode for both prompts");
                assertEquals(0, d.rows(), "the batch is empty after decoding");
                assertTrue(d.hasLogits(ida) && d.hasLogits(idb));
                assertClose(aloneA, copy(d.logits(ida)), "sequence A");
                assertClose(aloneB, copy(d.logits(idb)), "sequence B");
                // continue both, one token each per decode, as the batched engine will
                int[] gotA = new int[4];
                int[] gotB = new int[4];
                for (int step = 0; step < 4; step++) {
                    gotA[step] = d.sample(ida, g2);
                    gotB[step] = d.sample(idb, g2);
                    if (step < 3) {
                        d.add(ida, gotA[step], a.length + step, true);
                        d.add(idb, gotB[step], b.length + step, true);
                        assertEquals(0, d.decode());
                    }
                }
                assertArrayEquals(nextA, gotA, "sequence A's greedy tokens from shared batches");
                assertArrayEquals(nextB, gotB, "sequence B's greedy tokens from shared batches");
            }
        }
    }

    @Test
    void batchBoundsAndMissingLogitsAreJavaErrors() {
        try (Model m = Model.load(model());
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).batchSize(8).ubatchSize(8).build());
             Sampler g = Sampler.greedy()) {
            int id = ctx.newSequence().id();
            Decoder d = ctx.decoder();
            assertEquals(8, d.capacity());
            for (int i = 0; i < 8; i++) {
                d.add(id, 3, i, false);
            }
            assertEquals(0, d.room());
            assertThrows(IllegalStateException.class, () -> d.add(id, 3, 8, false));
            assertEquals(0, d.decode());
            assertFalse(d.hasLogits(id), "no row asked for logits");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.sample(id, g));
            assertTrue(e.getMessage().contains("no logits"), e.getMessage());
        }
    }

    @Test
    void aGenerationRegistersWithItsAbortSignalOnceAndUnregisters() {
        try (Model m = Model.load(model());
             Context ctx = m.createContext(ContextParams.builder().contextSize(128).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            AbortSignal signal = new AbortSignal();
            List<Integer> seen = new ArrayList<>();
            GenerateOptions opts = GenerateOptions.builder().maxTokens(3).abortSignal(signal)
                    .onToken(t -> seen.add(signal.listenerCount())).build();
            s.generate(m.vocabulary().tokenize("Once upon a time"), g, opts);
            assertEquals(List.of(1, 1, 1), seen, "listeners during the generation, per token");
            assertEquals(0, signal.listenerCount(), "none after it");
            s.stream(m.vocabulary().tokenize("the dog"), g, opts).close();
            assertEquals(0, signal.listenerCount(), "none after a closed stream");
        }
    }

    /** llama.cpp asserts (aborting the JVM) when a batch cannot hold an output per sequence: refused in Java. */
    @Test
    void moreSequencesThanABatchHoldsIsRefusedBeforeLlamaCppAsserts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ContextParams.builder().batchSize(8).ubatchSize(8).sequences(16).build());
        assertTrue(e.getMessage().contains("sequences (16) must not exceed batchSize (8)"), e.getMessage());
        try (Model m = Model.load(model())) {
            // a causal model's batch is capped at the context size, found only once created
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                    () -> m.createContext(ContextParams.builder().contextSize(32).sequences(64).build()));
            assertTrue(c.getMessage().contains("must not exceed the context size (32)"), c.getMessage());
            try (Context ok = m.createContext(ContextParams.builder().contextSize(32).sequences(32).build());
                 Sampler g = Sampler.greedy()) {
                Sequence s = ok.newSequence();
                s.append(m.vocabulary().tokenize("the girl"));
                assertEquals(1, s.generate(g, GenerateOptions.maxTokens(1)).tokenCount(), "the JVM is alive");
            }
        }
    }
}
