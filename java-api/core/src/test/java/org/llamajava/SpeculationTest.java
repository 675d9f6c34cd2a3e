package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.GgufFile;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;
import org.llamajava.gguf.VocabularySpec;
import org.llamajava.internal.NgramCache;

/**
 * Speculative decoding: the oracle is the same generation without speculation, which must give
 * the same tokens and text whatever drafts (the same model, another model of the same
 * vocabulary, n-gram lookup); acceptance counts are reported and plausible.
 */
class SpeculationTest {
    @TempDir
    Path tmp;

    private Path tiny(String name, long seed) {
        Path p = tmp.resolve(name);
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(seed).scale(4f).write(p);
        return p;
    }

    private static final String REPETITIVE = "the dog and the cat play. the dog and the cat play. the dog and the cat"
            + " play. Once upon a time there was a little girl. Once upon a time there was a little girl. Once upon a"
            + " time there was a little";

    /** Greedy generation of {@code n} tokens from {@code prompt}, with the given speculation (or none). */
    private static Completion generate(Model m, String prompt, int n, Speculation spec, List<String> stop) {
        try (Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Sequence seq = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            return seq.generate(m.vocabulary().tokenize(prompt), greedy,
                    GenerateOptions.builder().maxTokens(n).stop(stop).speculation(spec).build());
        }
    }

    private static void assertSame(Completion plain, Completion spec) {
        assertArrayEquals(plain.tokens(), spec.tokens(), "speculative tokens differ from plain greedy ones");
        assertEquals(plain.text(), spec.text());
        assertEquals(plain.finishReason(), spec.finishReason());
        assertEquals(0, plain.draftedTokens());
        assertTrue(spec.acceptedTokens() <= spec.draftedTokens(), spec.toString());
    }

    @Test
    void draftIsTheSameModelAndAcceptsEverything() {
        try (Model m = Model.load(tiny("target.gguf", 3))) {
            Completion plain = generate(m, "Once upon a time", 96, null, List.of());
            try (Speculation spec = Speculation.draftModel(m,
                    SpeculationParams.builder().draftMax(6).pMin(0f).build())) {
                Completion c = generate(m, "Once upon a time", 96, spec, List.of());
                assertSame(plain, c);
                assertTrue(c.draftedTokens() > 0, "nothing drafted");
                if (c.finishReason() == FinishReason.MAX_TOKENS) {
                    assertEquals(c.draftedTokens(), c.acceptedTokens(), "the same model must accept its own drafts");
                }
                // verifying batches of 7 means far fewer decode calls than tokens
                assertTrue(c.draftedTokens() >= plain.tokenCount() / 2, c.toString());
            }
        }
    }

    @Test
    void draftIsAnotherModelOfTheSameVocabulary() {
        try (Model m = Model.load(tiny("target.gguf", 3));
             Model d = Model.load(tiny("draft.gguf", 4))) {
            Speculation.checkCompatible(m, d);
            for (String prompt : List.of("Once upon a time", "the dog and the cat", REPETITIVE)) {
                Completion plain = generate(m, prompt, 40, null, List.of());
                try (Speculation spec = Speculation.draftModel(d,
                        SpeculationParams.builder().draftMax(4).pMin(0f).build())) {
                    Completion c = generate(m, prompt, 40, spec, List.of());
                    assertSame(plain, c);
                    assertTrue(c.draftedTokens() > 0, "nothing drafted");
                }
            }
        }
    }

    @Test
    void ngramLookupOnARepetitivePrompt() {
        try (Model m = Model.load(tiny("target.gguf", 3))) {
            Completion plain = generate(m, REPETITIVE, 128, null, List.of());
            try (Speculation spec = Speculation.ngram(SpeculationParams.builder().draftMax(8).build())) {
                Completion c = generate(m, REPETITIVE, 128, spec, List.of());
                assertSame(plain, c);
                // a random model does not repeat its prompt, so drafts are proposed but seldom kept
                // (stories260K below, which does repeat, must accept some)
                assertTrue(c.draftedTokens() > 0, c.toString());
                // the same Speculation again: its n-gram statistics are rebuilt for the new prompt
                Completion again = generate(m, "the dog and the cat", 64, spec, List.of());
                assertSame(generate(m, "the dog and the cat", 64, null, List.of()), again);
            }
        }
    }

    @Test
    void stopStringsAndMaxTokensEndAtTheSameToken() {
        try (Model m = Model.load(tiny("target.gguf", 3));
             Speculation spec = Speculation.draftModel(m, SpeculationParams.builder().draftMax(8).pMin(0f).build())) {
            for (int n : new int[] {1, 2, 3, 9, 17}) {
                assertSame(generate(m, "Once upon a time", n, null, List.of()),
                        generate(m, "Once upon a time", n, spec, List.of()));
            }
            Completion plain = generate(m, "Once upon a time", 64, null, List.of());
            String text = plain.text();
            if (text.length() > 12) {
                String stop = text.substring(8, 11);
                Completion a = generate(m, "Once upon a time", 64, null, List.of(stop));
                Completion b = generate(m, "Once upon a time", 64, spec, List.of(stop));
                assertEquals(a.text(), b.text());
                assertEquals(a.finishReason(), b.finishReason());
            }
        }
    }

    @Test
    void sampledGenerationIsTheSameWithTheSameSeed() {
        try (Model m = Model.load(tiny("target.gguf", 3));
             Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Speculation spec = Speculation.ngram(SpeculationParams.builder().draftMax(5).build())) {
            int[] prompt = m.vocabulary().tokenize(REPETITIVE);
            Completion plain;
            Completion fast;
            try (Sequence s = ctx.newSequence();
                 Sampler sampler = Sampler.builder().topK(8).temperature(0.8f).dist(7).build()) {
                plain = s.generate(prompt, sampler, GenerateOptions.maxTokens(100));
            }
            try (Sequence s = ctx.newSequence();
                 Sampler sampler = Sampler.builder().topK(8).temperature(0.8f).dist(7).build()) {
                fast = s.generate(prompt, sampler, GenerateOptions.builder().maxTokens(100).speculation(spec).build());
                // the sequence holds what it would hold without speculation: prompt and output minus the last token
                int[] held = s.tokens();
                assertEquals(prompt.length + fast.tokenCount() - 1, held.length);
                // and generating on from it continues as plain generation does
            }
            assertArrayEquals(plain.tokens(), fast.tokens());
        }
    }

    @Test
    void continuingASequenceAfterSpeculationMatchesPlain() {
        try (Model m = Model.load(tiny("target.gguf", 3));
             Context ctx = m.createContext(ContextParams.builder().contextSize(1024).build());
             Speculation spec = Speculation.draftModel(m, SpeculationParams.builder().draftMax(6).pMin(0f).build());
             Sampler greedy = Sampler.greedy()) {
            int[] prompt = m.vocabulary().tokenize("Once upon a time");
            List<Integer> plain = new ArrayList<>();
            List<Integer> fast = new ArrayList<>();
            try (Sequence s = ctx.newSequence()) {
                for (int t : s.generate(prompt, greedy, GenerateOptions.maxTokens(20)).tokens()) plain.add(t);
                for (int t : s.generate(greedy, GenerateOptions.maxTokens(20)).tokens()) plain.add(t);
            }
            try (Sequence s = ctx.newSequence()) {
                GenerateOptions o = GenerateOptions.builder().maxTokens(20).speculation(spec).build();
                for (int t : s.generate(prompt, greedy, o).tokens()) fast.add(t);
                for (int t : s.generate(greedy, o).tokens()) fast.add(t);
            }
            assertEquals(plain, fast);
        }
    }

    @Test
    void anIncompatibleDraftVocabularyIsAClearError() {
        Path other = tmp.resolve("other-vocab.gguf");
        new LlamaModelWriter(ModelShape.tiny(), VocabularySpec.byteFallback(List.of("▁", "▁x", "▁y", "z")))
                .seed(5).write(other);
        try (Model m = Model.load(tiny("target.gguf", 3));
             Model d = Model.load(other);
             Speculation spec = Speculation.draftModel(d, SpeculationParams.defaults());
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sequence seq = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> seq.generate(
                    m.vocabulary().tokenize("Once"), greedy,
                    GenerateOptions.builder().maxTokens(4).speculation(spec).build()));
            assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
            assertEquals(0, seq.length(), "nothing was evaluated");
            assertThrows(IllegalArgumentException.class, () -> Speculation.checkCompatible(m, d));
        }
        assertThrows(IllegalArgumentException.class, () -> SpeculationParams.builder().draftMax(0).build());
        assertThrows(IllegalArgumentException.class, () -> SpeculationParams.builder().draftMin(20).build());
        assertThrows(IllegalArgumentException.class, () -> SpeculationParams.builder().ngramMax(5).build());
    }

    @Test
    void ngramCacheDraftsTheContinuationOfARepeatedPattern() {
        NgramCache c = new NgramCache(1, 4);
        int[] tokens = {1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2};
        int[] out = new int[8];
        int n = c.draft(tokens, tokens.length, out, 5);
        assertTrue(n >= 3, "drafted " + n);
        assertArrayEquals(new int[] {3, 4, 5}, java.util.Arrays.copyOf(out, 3));
        assertEquals(0, c.draft(new int[] {9, 8}, 2, out, 5), "a diverging list rebuilds the cache: nothing seen twice");
    }

    @Test
    void stories260kWithAWrittenDraftModelAndWithLookup() {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        Path draft = tmp.resolve("stories-draft.gguf");
        VocabularySpec vocab = VocabularySpec.from(GgufFile.read(stories));
        new LlamaModelWriter(ModelShape.tiny(), vocab).seed(9).scale(4f).write(draft);
        try (Model m = Model.load(stories); Model d = Model.load(draft)) {
            String prompt = "Once upon a time, there was a little girl named Lily. She liked to play. Once upon a"
                    + " time, there was a little girl named Lily. She liked to";
            Completion plain = generate(m, prompt, 60, null, List.of());
            try (Speculation spec = Speculation.draftModel(d, SpeculationParams.builder().draftMax(4).pMin(0f).build())) {
                assertSame(plain, generate(m, prompt, 60, spec, List.of()));
            }
            try (Speculation spec = Speculation.draftModel(m, SpeculationParams.builder().draftMax(8).pMin(0f).build())) {
                Completion c = generate(m, prompt, 60, spec, List.of());
                assertSame(plain, c);
                if (c.finishReason() == FinishReason.MAX_TOKENS) {
                    assertEquals(c.draftedTokens(), c.acceptedTokens());
                }
            }
            try (Speculation spec = Speculation.ngram(SpeculationParams.defaults())) {
                Completion c = generate(m, prompt, 60, spec, List.of());
                assertSame(plain, c);
                assertTrue(c.acceptedTokens() > 0, c.toString());
            }
        }
    }
}
