package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.ModelParams;
import org.llamajava.TestSupport;
import org.llamajava.embed.EmbedderParams;
import org.llamajava.embed.RerankModels;
import org.llamajava.embed.Reranker;

/** Scores equal the core Reranker's; token counts equal the core tokenizer's; bad rows give error cells. */
class LlamaRerankerAndCounterTest {
    @TempDir
    static Path tmp;

    static final List<String> QUERIES = List.of("what do llamas eat?", "where is Paris?");
    static final List<String> DOCS = List.of("Llamas are herbivores: they graze on grass and hay.",
            "The stock market fell on Tuesday.", "A llama's diet is mostly grasses, shrubs and lichens.",
            "Paris is the capital of France.", "", "Spark runs tasks on executors.");

    @Test
    void scoresEqualTheCoreRerankersAndALongPairIsAnErrorCell() {
        Path file = RerankModels.write(TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf"), tmp.resolve("rank.gguf"),
                3, null);
        float[][] expected = new float[QUERIES.size()][];
        try (Model model = Model.load(file);
             Reranker r = Reranker.create(model, EmbedderParams.builder().maxSequences(1).threads(2).build())) {
            for (int q = 0; q < QUERIES.size(); q++) {
                expected[q] = r.score(QUERIES.get(q), DOCS);
            }
        }
        List<Row> in = new ArrayList<>();
        for (int q = 0; q < QUERIES.size(); q++) {
            for (int d = 0; d < DOCS.size(); d++) {
                in.add(RowFactory.create(q, d, QUERIES.get(q), DOCS.get(d)));
            }
        }
        in.add(RowFactory.create(-1, -1, "long", "grass and hay ".repeat(400)));
        StructType schema = new StructType().add("q", DataTypes.IntegerType).add("d", DataTypes.IntegerType)
                .add("query", DataTypes.StringType).add("document", DataTypes.StringType);
        LlamaReranker reranker = new LlamaReranker().setModelPath(file.toString()).setMaxSequences(1).setBatchSize(4);
        List<Row> out = reranker.transform(TestSpark.session().createDataFrame(in, schema).repartition(3))
                .collectAsList();
        assertEquals(in.size(), out.size());
        int scored = 0;
        for (Row r : out) {
            int q = r.getInt(0);
            if (q < 0) {
                assertNull(r.get(4));
                assertTrue(r.getString(5).contains("tokens"), r.getString(5));
                continue;
            }
            assertNull(r.get(5), () -> "no error: " + r.get(5));
            assertEquals(expected[q][r.getInt(1)], r.getFloat(4), 1e-6f, "query " + q + ", document " + r.getInt(1));
            scored++;
        }
        assertEquals(QUERIES.size() * DOCS.size(), scored);
        assertEquals(1, reranker.metrics().rowsFailed());
    }

    @Test
    void tokenCountsEqualTheTokenizersAndLoadOnlyTheVocabulary() {
        Path file = TestSupport.sharedModel("llama-2-tiny-random.gguf");
        List<String> texts = List.of("Hello world", "", "Ünïcödé and emoji 🦙", "a ".repeat(300));
        List<Integer> expected = new ArrayList<>();
        try (Model vocab = Model.load(file, ModelParams.builder().vocabOnly(true).build())) {
            texts.forEach(t -> expected.add(vocab.vocabulary().tokenize(t, true, true).length));
        }
        List<Row> in = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            in.add(RowFactory.create(i, texts.get(i)));
        }
        in.add(RowFactory.create(99, null));
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        LlamaTokenCounter counter = new LlamaTokenCounter().setModelPath(file.toString()).setInputCol("text");
        List<Row> out = counter.transform(TestSpark.session().createDataFrame(in, schema).repartition(2))
                .collectAsList();
        long total = 0;
        for (Row r : out) {
            int id = r.getInt(0);
            if (id == 99) {
                assertNull(r.get(2));
                assertTrue(r.getString(3).contains("null"), r.getString(3));
            } else {
                assertEquals(expected.get(id), r.getInt(2), texts.get(id));
                total += expected.get(id);
            }
        }
        assertEquals(total, counter.metrics().tokensIn());
        assertEquals(1, counter.metrics().rowsFailed());
    }
}
