package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;

/**
 * Reranking scores equal llama.cpp's own rank pooling ({@code llama-embedding --pooling rank}) on
 * a cross-encoder: a real BERT encoder with a random classification head.
 */
class RerankerTest {
    @TempDir
    Path tmp;

    static final String QUERY = "what do llamas eat?";
    static final List<String> DOCS = List.of(
            "Llamas are herbivores: they graze on grass and hay.",
            "The stock market fell on Tuesday.",
            "A llama's diet is mostly grasses, shrubs and lichens.",
            "",
            "Paris is the capital of France.");

    private static float[] oracle(Path model, List<String> lines) throws Exception {
        List<float[]> v = EmbeddingOracle.run(model, lines, "--pooling", "rank", "--embd-normalize", "-1");
        float[] scores = new float[v.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = v.get(i)[0];
        }
        return scores;
    }

    @Test
    void scoresEqualLlamaCppsRankPooling() throws Exception {
        Path file = RerankModels.write(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"), tmp.resolve("rank.gguf"),
                3, null);
        List<String> lines = new ArrayList<>();
        for (String d : DOCS) {
            lines.add(QUERY + "\t" + d); // llama-embedding's --cls-separator
        }
        float[] expected = oracle(file, lines);
        try (Model model = Model.load(file); Reranker reranker = Reranker.create(model)) {
            assertEquals("what do llamas eat?[SEP]Paris", reranker.format(QUERY, "Paris"),
                    "query, the EOS the tokenizer adds (BERT's [SEP]), document");
            float[] scores = reranker.score(QUERY, DOCS);
            assertEquals(DOCS.size(), scores.length);
            for (int i = 0; i < scores.length; i++) {
                assertEquals(expected[i], scores[i], 1e-3f, "score of document " + i);
            }
            // alone, against llama.cpp alone (its kernels round a lone pair differently from a batch)
            assertEquals(oracle(file, List.of(lines.get(2)))[0], reranker.score(QUERY, DOCS.get(2)), 1e-3f, "alone");
            List<ScoredDocument> top = reranker.topK(QUERY, DOCS, 2);
            assertEquals(2, top.size());
            int best = 0;
            for (int i = 1; i < scores.length; i++) {
                if (scores[i] > scores[best]) {
                    best = i;
                }
            }
            assertEquals(best, top.get(0).index());
            assertEquals(DOCS.get(best), top.get(0).document());
            assertTrue(top.get(0).score() >= top.get(1).score());
            assertThrows(IllegalArgumentException.class, () -> reranker.topK(QUERY, DOCS, -1));
            assertThrows(IllegalArgumentException.class, () -> reranker.score(QUERY, java.util.Arrays.asList("a", null)));
        }
    }

    @Test
    void aRerankTemplateFromTheGgufFormatsThePair() throws Exception {
        String template = "query: {query} [SEP] passage: {document}";
        Path file = RerankModels.write(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"), tmp.resolve("rank-t.gguf"),
                4, template);
        List<String> lines = new ArrayList<>();
        for (String d : DOCS.subList(0, 3)) {
            lines.add(QUERY + "\t" + d);
        }
        float[] expected = oracle(file, lines);
        try (Model model = Model.load(file); Reranker reranker = Reranker.create(model)) {
            assertEquals("query: q [SEP] passage: d", reranker.format("q", "d"));
            float[] scores = reranker.score(QUERY, DOCS.subList(0, 3));
            for (int i = 0; i < scores.length; i++) {
                assertEquals(expected[i], scores[i], 1e-3f, "score of document " + i);
            }
        }
    }

    @Test
    void anEmbeddingModelIsNotAReranker() {
        try (Model model = Model.load(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reranker.create(model));
            assertTrue(e.getMessage().contains("not a reranking model"), e.getMessage());
        }
    }
}
