package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.Pooling;
import org.llamajava.TestSupport;

/**
 * Embedder behaviour that needs no real embedding model: a generative model pooled by its last
 * token against llama-embedding, batching that does not change results, long lists, and bad input.
 */
class EmbedderTest {
    @TempDir
    Path tmp;

    private static float norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return (float) Math.sqrt(s);
    }

    @Test
    void aGenerativeModelIsPooledByItsLastTokenAsLlamaEmbeddingDoes() throws Exception {
        Path file = TestSupport.writeTinyModel(tmp);
        List<String> texts = List.of("Once upon a time", "the little girl and the dog", "a", "");
        try (Model model = Model.load(file); Embedder embedder = Embedder.create(model)) {
            assertEquals(Pooling.LAST, embedder.pooling(), "a GGUF without pooling_type is pooled by the last token");
            List<float[]> expected = EmbeddingOracle.run(file, texts, "--pooling", "last");
            EmbeddingOracle.assertVectorsEqual(expected, embedder.embedAll(texts), 1e-4f, "tiny llama, last pooling");
        }
    }

    @Test
    void batchingDoesNotChangeTheVectorsOfACausalModel() {
        Path file = TestSupport.writeTinyModel(tmp);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            texts.add("the girl " + "and the dog ".repeat(i % 4) + i);
        }
        List<float[]> alone = new ArrayList<>();
        List<float[]> together;
        List<float[]> smallBatches;
        List<Integer> progress = new ArrayList<>();
        try (Model model = Model.load(file)) {
            try (Embedder e = Embedder.create(model)) {
                for (String t : texts) {
                    alone.add(e.embed(t));
                }
                together = e.embedAll(texts);
            }
            // small batches: at most 3 inputs a decode
            try (Embedder e = Embedder.create(model, EmbedderParams.builder().contextSize(128).maxSequences(3).build())) {
                smallBatches = e.embedAll(texts, (done, total) -> progress.add(done));
            }
        }
        // a causal model attends through its KV cache, whose size differs with the batch: float
        // rounding differs in the last digits (the real, non-causal models are held to 1e-5)
        EmbeddingOracle.assertVectorsEqual(alone, together, 1e-3f, "one batch against one at a time");
        EmbeddingOracle.assertVectorsEqual(alone, smallBatches, 1e-3f, "small batches against one at a time");
        assertTrue(progress.size() >= texts.size() / 3, "one progress report per batch: " + progress);
        assertEquals(texts.size(), progress.get(progress.size() - 1));
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i) > progress.get(i - 1), "progress grows: " + progress);
        }
    }

    @Test
    void tenThousandInputsEmptyAndWhitespace() {
        Path file = TestSupport.writeTinyModel(tmp);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            texts.add(i % 3 == 0 ? "" : i % 3 == 1 ? "   " : "the dog " + (i % 10));
        }
        try (Model model = Model.load(file); Embedder e = Embedder.create(model)) {
            List<float[]> out = e.embedAll(texts);
            assertEquals(10_000, out.size());
            for (int i = 0; i < out.size(); i++) {
                assertEquals(e.dimension(), out.get(i).length);
                assertEquals(1f, norm(out.get(i)), 1e-4f, "L2-normalized: vector " + i);
            }
            // equal inputs, far apart in the list and in different batches, give equal vectors
            assertArrayEquals(out.get(2), out.get(9_992), 1e-5f);
            assertArrayEquals(out.get(0), out.get(9_999), 1e-5f);
            assertArrayEquals(e.embed(""), out.get(3), 1e-5f);
        }
    }

    @Test
    void inputsLongerThanTheContextFailOrAreTruncated() {
        Path file = TestSupport.writeTinyModel(tmp);
        String longText = "the little girl and the dog ".repeat(40);
        try (Model model = Model.load(file)) {
            try (Embedder e = Embedder.create(model, EmbedderParams.builder().contextSize(32).build())) {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                        () -> e.embedAll(List.of("short", longText)));
                assertTrue(ex.getMessage().contains("input 1 has") && ex.getMessage().contains("Truncation.END"),
                        ex.getMessage());
                assertEquals(e.dimension(), e.embed("short").length, "still usable after the error");
            }
            try (Embedder e = Embedder.create(model, EmbedderParams.builder().contextSize(32)
                    .truncation(Truncation.END).build())) {
                int[] tokens = e.tokenize(longText);
                assertEquals(32, tokens.length, "truncated to the context");
                int[] all = model.vocabulary().tokenize(longText, true, true);
                assertArrayEquals(Arrays.copyOf(all, 32), tokens, "the first tokens are kept");
                assertEquals(e.dimension(), e.embed(longText).length);
            }
        }
    }

    /**
     * Pooling none from token ids (llama-server's {@code /embeddings}) gives the vectors the text
     * gives, one per token; a normalization applied afterwards is the one the embedder applies.
     */
    @Test
    void tokenEmbeddingsFromIdsAndNormalizationAfterwards() {
        Path file = TestSupport.writeTinyModel(tmp);
        String text = "the little girl and the dog";
        try (Model model = Model.load(file);
             Embedder none = Embedder.create(model, EmbedderParams.builder().pooling(Pooling.NONE)
                     .normalization(Normalization.NONE).build());
             Embedder l2 = Embedder.create(model, EmbedderParams.builder().pooling(Pooling.NONE).build())) {
            int[] ids = model.vocabulary().tokenize(text, true, true);
            List<float[]> fromIds = none.embedTokens(ids);
            assertEquals(ids.length, fromIds.size());
            EmbeddingOracle.assertVectorsEqual(none.embedTokens(text), fromIds, 0f, "ids as the text's tokens");
            List<float[]> normalized = l2.embedTokens(ids);
            for (int i = 0; i < ids.length; i++) {
                assertArrayEquals(normalized.get(i), Normalization.L2.apply(fromIds.get(i)), 1e-6f, "token " + i);
                assertTrue(Math.abs(norm(fromIds.get(i)) - 1) > 1e-3, "the raw vector is not a unit vector");
            }
            assertThrows(IllegalArgumentException.class, () -> none.embedTokens(new int[0]));
            assertThrows(IllegalArgumentException.class, () -> none.embedTokens(new int[] {-1}));
        }
    }

    @Test
    void misuseIsAJavaExceptionAndTheJvmLives() throws Exception {
        Path file = TestSupport.writeTinyModel(tmp);
        try (Model vocabOnly = Model.load(file, ModelParams.builder().vocabOnly(true).build())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Embedder.create(vocabOnly));
            assertTrue(e.getMessage().contains("vocabOnly"), e.getMessage());
        }
        Model model = Model.load(file);
        Embedder embedder = Embedder.create(model);
        assertThrows(IllegalArgumentException.class, () -> embedder.embed(null));
        assertThrows(IllegalArgumentException.class, () -> embedder.embedAll(Arrays.asList("a", null)));
        assertThrows(IllegalStateException.class, () -> embedder.embedTokens("a"), "tokens need Pooling.NONE");
        assertThrows(IllegalArgumentException.class, () -> Reranker.create(model), "not a reranking model");

        // a second thread while the first is inside a call (from its progress listener)
        AtomicReference<Throwable> other = new AtomicReference<>();
        embedder.embedAll(List.of("one", "two"), (done, total) -> {
            Thread t = new Thread(() -> {
                try {
                    embedder.embed("three");
                } catch (Throwable x) {
                    other.set(x);
                }
            });
            t.start();
            try {
                t.join();
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
        });
        assertNotNull(other.get(), "the second thread was refused");
        assertTrue(other.get() instanceof IllegalStateException && other.get().getMessage().contains("in use by"),
                String.valueOf(other.get()));

        embedder.close();
        embedder.close(); // idempotent
        assertTrue(embedder.isClosed());
        assertThrows(IllegalStateException.class, () -> embedder.embed("after close"));
        Embedder second = Embedder.create(model);
        model.close();
        assertTrue(second.isClosed(), "closing the model closes its embedders");
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> second.embed("x"));
        assertTrue(closed.getMessage().contains("Model was closed"), closed.getMessage());
        assertFalse(Thread.currentThread().isInterrupted());
    }
}
