package org.llamajava.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.llamajava.Model;
import org.llamajava.Pooling;
import org.llamajava.TestSupport;

/**
 * Every vector equals llama.cpp's llama-embedding's (built from the same source) on the same
 * inputs, within 1e-4 per component: for the two real embedding models, single inputs and mixed
 * batches, and every pooling and normalization llama-embedding offers.
 */
class EmbedderOracleTest {
    /** English, punctuation-heavy, accented, numeric, empty, whitespace-only, one letter, and long. */
    static final List<String> TEXTS = List.of(
            "Hello world",
            "The quick brown fox jumps over the lazy dog.",
            "¿Dónde está la biblioteca? Café, naïve, résumé, Zürich.",
            "Call 555-0123 or 1-800-FLOWERS; pay $42.50 (about 39.99 EUR) by 2026-11-29.",
            "!!! ??? ... ;;; --- *** ((( ))) [[[ ]]]",
            "",
            "   ",
            "x",
            "Retrieval augmented generation embeds documents, stores their vectors, and for each question finds"
                    + " the nearest ones, so that a small local model answers from facts instead of from memory; this"
                    + " sentence is long so that one batch holds inputs of very different lengths.");

    static final float TOLERANCE = 1e-4f;

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2-f16.gguf", "bge-small-en-v1.5-f16.gguf"})
    void aBatchOfMixedInputsEqualsLlamaEmbedding(String name) throws Exception {
        Path file = TestSupport.sharedModel(name);
        List<float[]> expected = EmbeddingOracle.run(file, TEXTS);
        try (Model model = Model.load(file);
             Embedder embedder = Embedder.create(model, EmbedderParams.builder().threads(2).build())) {
            assertEquals(384, embedder.dimension());
            EmbeddingOracle.assertVectorsEqual(expected, embedder.embedAll(TEXTS), TOLERANCE, name);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2-f16.gguf", "bge-small-en-v1.5-f16.gguf"})
    void singleInputsEqualLlamaEmbedding(String name) throws Exception {
        Path file = TestSupport.sharedModel(name);
        try (Model model = Model.load(file);
             Embedder embedder = Embedder.create(model, EmbedderParams.builder().threads(2).build())) {
            for (String text : List.of(TEXTS.get(1), TEXTS.get(2), TEXTS.get(8))) {
                EmbeddingOracle.assertVectorsEqual(EmbeddingOracle.run(file, List.of(text)),
                        List.of(embedder.embed(text)), TOLERANCE, name + " '" + text + "'");
            }
        }
    }

    /** Each pooling against llama-embedding --pooling, each normalization against --embd-normalize. */
    @ParameterizedTest
    @CsvSource({"mean,2", "cls,2", "last,2", "mean,-1", "cls,-1", "mean,0", "mean,1", "mean,3", "cls,4"})
    void poolingAndNormalizationEqualLlamaEmbedding(String pooling, int normalize) throws Exception {
        Path file = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = TEXTS.subList(0, 5);
        List<float[]> expected = EmbeddingOracle.run(file, texts, "--pooling", pooling, "--embd-normalize",
                Integer.toString(normalize));
        try (Model model = Model.load(file);
             Embedder embedder = Embedder.create(model, EmbedderParams.builder().threads(2)
                     .pooling(Pooling.ofFlag(pooling)).normalization(new Normalization(normalize)).build())) {
            // llama-embedding prints max-abs (int16-range) vectors rounded to integers
            float tolerance = normalize == 0 ? 0.5f + 1e-3f : TOLERANCE;
            EmbeddingOracle.assertVectorsEqual(expected, embedder.embedAll(texts), tolerance,
                    "--pooling " + pooling + " --embd-normalize " + normalize);
        }
    }

    /** Pooling none: one vector per token, as llama-embedding --pooling none prints them. */
    @ParameterizedTest
    @ValueSource(ints = {2, -1})
    void tokenEmbeddingsEqualLlamaEmbedding(int normalize) throws Exception {
        Path file = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = List.of(TEXTS.get(0), TEXTS.get(2));
        List<float[]> expected = EmbeddingOracle.run(file, texts, "--pooling", "none", "--embd-normalize",
                Integer.toString(normalize));
        try (Model model = Model.load(file);
             Embedder embedder = Embedder.create(model, EmbedderParams.builder().threads(2).pooling(Pooling.NONE)
                     .normalization(new Normalization(normalize)).build())) {
            List<float[]> actual = new ArrayList<>();
            for (String t : texts) {
                List<float[]> perToken = embedder.embedTokens(t);
                assertEquals(embedder.tokenize(t).length, perToken.size(), "one vector per token");
                actual.addAll(perToken);
            }
            EmbeddingOracle.assertVectorsEqual(expected, actual, TOLERANCE, "--pooling none");
        }
    }

    /**
     * Batching must not change results. llama.cpp's CPU kernels themselves round differently for
     * different batch sizes (its own vector for an input embedded alone and in a batch of mixed
     * lengths differ by about 1e-4), so the bound is llama.cpp's own difference on the same
     * inputs, and 1e-5 where that is smaller: one batch, batches of two, and one input at a time.
     */
    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2-f16.gguf", "bge-small-en-v1.5-f16.gguf"})
    void batchingChangesTheVectorsNoMoreThanItChangesLlamaCpps(String name) throws Exception {
        Path file = TestSupport.sharedModel(name);
        List<float[]> nativeBatch = EmbeddingOracle.run(file, TEXTS);
        List<float[]> nativeAlone = new ArrayList<>();
        for (String t : TEXTS) {
            nativeAlone.addAll(EmbeddingOracle.run(file, List.of(t)));
        }
        float nativeDiff = EmbeddingOracle.maxDifference(nativeBatch, nativeAlone);
        float bound = Math.max(1e-5f, nativeDiff + 1e-6f);
        try (Model model = Model.load(file);
             Embedder big = Embedder.create(model, EmbedderParams.builder().threads(2).build());
             Embedder small = Embedder.create(model, EmbedderParams.builder().threads(2).maxSequences(2).build())) {
            List<float[]> alone = new ArrayList<>();
            for (String t : TEXTS) {
                alone.add(big.embed(t));
            }
            // the same inputs in the same batches as llama.cpp: equal to its printed precision
            EmbeddingOracle.assertVectorsEqual(nativeAlone, alone, 1e-6f, name + ": alone, against llama.cpp alone");
            EmbeddingOracle.assertVectorsEqual(nativeBatch, big.embedAll(TEXTS), 1e-6f,
                    name + ": one batch, against llama.cpp's batch");
            EmbeddingOracle.assertVectorsEqual(alone, big.embedAll(TEXTS), bound,
                    name + ": one batch against one at a time (llama.cpp's own difference " + nativeDiff + ")");
            EmbeddingOracle.assertVectorsEqual(alone, small.embedAll(TEXTS), bound,
                    name + ": batches of two against one at a time (llama.cpp's own difference " + nativeDiff + ")");
        }
    }

    /**
     * An encoder (BERT) sees an input in one physical batch, and llama.cpp asserts (aborting the
     * process) when an input exceeds n_ubatch: refused in Java, and the context stays usable.
     */
    @org.junit.jupiter.api.Test
    void anInputLongerThanAnEncodersPhysicalBatchIsAJavaError() {
        Path file = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        try (Model model = Model.load(file);
             org.llamajava.Context ctx = model.createContext(org.llamajava.ContextParams.builder().contextSize(512)
                     .batchSize(512).ubatchSize(64).pooling(Pooling.MEAN).build())) {
            org.llamajava.Sequence s = ctx.newSequence();
            int[] tokens = model.vocabulary().tokenize("word ".repeat(100), true, true);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> s.append(tokens));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("encoder"), e.getMessage());
            s.append(model.vocabulary().tokenize("short", true, true));
            assertEquals(3, s.length(), "still usable");
        }
        try (Model model = Model.load(file);
             Embedder e = Embedder.create(model, EmbedderParams.builder().contextSize(16).build())) {
            IllegalArgumentException x = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> e.embed(TEXTS.get(8)));
            org.junit.jupiter.api.Assertions.assertTrue(x.getMessage().contains("at most 16 fit"), x.getMessage());
        }
    }
}
