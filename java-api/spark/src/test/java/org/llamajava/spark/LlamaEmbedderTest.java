package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;

/** Embeddings through Spark (local[2], several partitions) equal the core Embedder's, on both real embedding models. */
class LlamaEmbedderTest {
    static List<String> sentences(int n) {
        String[] subjects = {"The cat", "A llama", "My neighbour", "The old train", "Spark", "A small model"};
        String[] verbs = {"sleeps on", "eats", "paints", "runs past", "embeds", "reads about"};
        String[] objects = {"the warm stove.", "green grass in the valley.", "a picture of the sea.",
            "the station at noon.", "millions of documents.", "vectors and batches."};
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(subjects[i % 6] + " " + verbs[(i / 6) % 6] + " " + objects[(i / 36) % 6] + (i >= 216 ? " #" + i : ""));
        }
        return out;
    }

    /**
     * With one input per native batch (maxSequences 1) a vector does not depend on what it is batched
     * with, so Spark's (rows of 5 partitions, merged from 2 concurrent tasks) equal the core's to
     * 1e-6. With the default batching llama.cpp's CPU kernels round differently for a different batch
     * shape; there Spark's vectors must lie within twice the spread the core itself shows between one
     * batch of all texts and one text at a time.
     */
    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2-f16.gguf", "bge-small-en-v1.5-f16.gguf"})
    void vectorsEqualTheCoreEmbedders(String name) {
        Path file = TestSupport.sharedModel(name);
        List<String> texts = sentences(120);
        List<float[]> oneByOne;
        List<float[]> together;
        try (Model model = Model.load(file);
             Embedder single = Embedder.create(model, EmbedderParams.builder().threads(2).maxSequences(1).build());
             Embedder batched = Embedder.create(model, EmbedderParams.builder().threads(2).build())) {
            oneByOne = single.embedAll(texts);
            together = batched.embedAll(texts);
        }
        double coreSpread = 0;
        for (int t = 0; t < texts.size(); t++) {
            for (int i = 0; i < together.get(t).length; i++) {
                coreSpread = Math.max(coreSpread, Math.abs(together.get(t)[i] - oneByOne.get(t)[i]));
            }
        }
        SparkSession spark = TestSpark.session();
        Dataset<Row> df = spark.createDataset(texts, Encoders.STRING()).toDF("text").repartition(5);
        LlamaEmbedder embedder = new LlamaEmbedder().setModelPath(file.toString()).setInputCol("text")
                .setOutputCol("vec").setBatchSize(16).setMaxSequences(1);
        assertVectors(texts, oneByOne, embedder.transform(df).collectAsList(), 1e-6);
        LlamaMetrics m = embedder.metrics();
        assertEquals(texts.size(), m.rows());
        assertEquals(0, m.rowsFailed());
        assertTrue(m.tokensIn() > texts.size(), "tokens counted: " + m.tokensIn());

        embedder.setMaxSequences(256);
        assertVectors(texts, together, embedder.transform(df).collectAsList(), Math.max(2 * coreSpread, 1e-6));

        // as ML vectors, of the same values
        Row first = embedder.setMaxSequences(1).setOutputFormat("vector").transform(df.limit(3)).collectAsList().get(0);
        Vector vec = (Vector) first.get(1);
        float[] want = oneByOne.get(texts.indexOf(first.getString(0)));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], vec.apply(i), 1e-6, "vector [" + i + "]");
        }
    }

    static void assertVectors(List<String> texts, List<float[]> expected, List<Row> rows, double tolerance) {
        assertEquals(texts.size(), rows.size());
        for (Row r : rows) {
            String text = r.getString(0);
            assertNull(r.get(2), () -> "no error for " + text + ": " + r.get(2));
            List<Float> v = r.getList(1);
            float[] want = expected.get(texts.indexOf(text));
            assertEquals(want.length, v.size());
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], v.get(i), tolerance, text + " [" + i + "]");
            }
        }
    }
}
