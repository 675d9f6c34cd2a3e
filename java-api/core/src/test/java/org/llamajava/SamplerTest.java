package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/** The sampler chain behaves as documented. */
class SamplerTest {
    @TempDir
    static Path tmp;
    static Model model;
    static int[] prompt;

    @BeforeAll
    static void load() {
        Path p = tmp.resolve("sampler.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(33).scale(3f).write(p);
        model = Model.load(p);
        prompt = model.vocabulary().tokenize("Once upon a time the girl");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Completion run(Sampler.Builder b, int n, GenerateOptions.Builder opts) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler sampler = b.build(model)) {
            return s.generate(prompt, sampler, opts.maxTokens(n).build());
        }
    }

    static int[] tokens(Sampler.Builder b, int n) {
        return run(b, n, GenerateOptions.builder()).tokens();
    }

    @Test
    void topKOneEqualsGreedy() {
        int[] greedy = tokens(Sampler.builder().greedy(), 30);
        assertArrayEquals(greedy, tokens(Sampler.builder().topK(1).temperature(2f).dist(77), 30));
        assertArrayEquals(greedy, tokens(Sampler.builder().temperature(0f).dist(5), 30), "temperature 0 is greedy");
    }

    /**
     * llama.cpp reads a top-k of 0 or less as "no filter" and clamps one above the vocabulary size
     * to it: out-of-range values neither fail nor crash, and sample (same seed) exactly as no top-k
     * and as top-k = vocabulary size respectively (the latter keeps every token but sorts them, so
     * the seeded draw differs from no top-k), while a real top-k changes the draw.
     */
    @Test
    void outOfRangeTopKIsClampedOrOff() {
        int[] none = tokens(Sampler.builder().temperature(1.5f).dist(99), 40);
        for (int k : new int[] {0, -1, Integer.MIN_VALUE}) {
            assertArrayEquals(none, tokens(Sampler.builder().topK(k).temperature(1.5f).dist(99), 40), "top-k " + k);
        }
        int n = model.vocabulary().size();
        int[] all = tokens(Sampler.builder().topK(n).temperature(1.5f).dist(99), 40);
        for (int k : new int[] {n + 1, Integer.MAX_VALUE}) {
            assertArrayEquals(all, tokens(Sampler.builder().topK(k).temperature(1.5f).dist(99), 40), "top-k " + k);
        }
        assertFalse(Arrays.equals(all, tokens(Sampler.builder().topK(2).temperature(1.5f).dist(99), 40)), "top-k 2");
        assertFalse(Arrays.equals(none, tokens(Sampler.builder().topK(2).temperature(1.5f).dist(99), 40)), "top-k 2");
    }

    @Test
    void sameSeedSameOutputOtherSeedOtherOutput() {
        Sampler.Builder a = Sampler.builder().topK(0).temperature(1.5f).dist(1234);
        int[] x = tokens(a, 40);
        assertArrayEquals(x, tokens(Sampler.builder().topK(0).temperature(1.5f).dist(1234), 40));
        assertFalse(Arrays.equals(x, tokens(Sampler.builder().topK(0).temperature(1.5f).dist(4321), 40)));
        for (Sampler.Builder b : List.of(
                Sampler.builder().typical(0.9f).temperature(1.2f).dist(9),
                Sampler.builder().xtc(0.5f, 0.1f, 9).temperature(1.2f).dist(9),
                Sampler.builder().topNSigma(2f).temperature(1.2f).dist(9),
                Sampler.builder().dynamicTemperature(1f, 0.5f, 1f).dist(9),
                Sampler.builder().mirostat(5f, 0.1f, 100, 9),
                Sampler.builder().mirostatV2(5f, 0.1f, 9),
                Sampler.builder().dry(0.8f, 1.75f, 2, 64, List.of("\n", ".")).temperature(1f).dist(9))) {
            assertEquals(20, tokens(b, 20).length, "every stage runs");
        }
    }

    @Test
    void aBannedTokenIsNeverEmitted() {
        int[] greedy = tokens(Sampler.builder().greedy(), 30);
        int banned = greedy[0];
        int[] biased = tokens(Sampler.builder().logitBias(banned, Float.NEGATIVE_INFINITY).greedy(), 30);
        assertTrue(Arrays.stream(biased).noneMatch(t -> t == banned), Arrays.toString(biased));
        int[] sampled = tokens(Sampler.builder().logitBias(banned, Float.NEGATIVE_INFINITY).temperature(2f).dist(1), 60);
        assertTrue(Arrays.stream(sampled).noneMatch(t -> t == banned));
    }

    @Test
    void penaltiesLowerRepeats() {
        int plain = maxRepeats(tokens(Sampler.builder().greedy(), 80));
        int penalised = maxRepeats(tokens(Sampler.builder().penalties(64, 1.8f, 0.5f, 0.5f).greedy(), 80));
        assertTrue(plain > 3, "greedy on random weights repeats itself: " + plain);
        assertTrue(penalised < plain, penalised + " < " + plain);
    }

    private static int maxRepeats(int[] tokens) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int t : tokens) {
            counts.merge(t, 1, Integer::sum);
        }
        return counts.values().stream().max(Integer::compare).orElse(0);
    }

    @Test
    void logprobsDescribeTheModelsDistribution() {
        List<GeneratedToken> seen = new ArrayList<>();
        run(Sampler.builder().greedy(), 10, GenerateOptions.builder().logprobs(5).onToken(seen::add));
        assertEquals(10, seen.size());
        for (GeneratedToken t : seen) {
            assertEquals(5, t.alternatives().size());
            assertEquals(t.token(), t.alternatives().get(0).token(), "greedy takes the most likely token");
            assertEquals(t.logprob(), t.alternatives().get(0).logprob(), 1e-6);
            double sum = 0;
            for (int i = 0; i < 5; i++) {
                sum += t.alternatives().get(i).probability();
                if (i > 0) {
                    assertTrue(t.alternatives().get(i - 1).logprob() >= t.alternatives().get(i).logprob());
                }
            }
            assertTrue(sum <= 1.0 + 1e-5 && t.logprob() <= 0);
        }
        List<GeneratedToken> plain = new ArrayList<>();
        run(Sampler.builder().greedy(), 3, GenerateOptions.builder().onToken(plain::add));
        assertTrue(Float.isNaN(plain.get(0).logprob()) && plain.get(0).alternatives().isEmpty());
    }

    @Test
    void misuseIsRejected() {
        assertThrows(IllegalStateException.class, () -> Sampler.builder().greedy().topK(3));
        assertThrows(IllegalStateException.class, () -> Sampler.builder().penalties(8, 1.1f, 0, 0).build());
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().penalties(8, 0f, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().logitBias(1, Float.NaN));
        assertThrows(IllegalArgumentException.class,
                () -> Sampler.builder().logitBias(model.vocabulary().size(), 1f).greedy().build(model));
    }
}
