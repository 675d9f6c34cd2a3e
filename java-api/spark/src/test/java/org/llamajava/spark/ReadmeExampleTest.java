package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.TestSupport;

/** The README's job embeds a Parquet file's text column into a Parquet file of vectors; the README shows this code. */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    @Test
    void theReadmeJobWritesVectors() throws Exception {
        Path model = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        SparkSession spark = TestSpark.session();
        List<String> texts = LlamaEmbedderTest.sentences(12);
        String in = tmp.resolve("in.parquet").toString();
        String out = tmp.resolve("out.parquet").toString();
        spark.createDataset(texts, Encoders.STRING()).toDF("text").repartition(3).write().parquet(in);
        ReadmeExample.main(new String[] {in, model.toString(), out});
        List<Row> rows = spark.read().parquet(out).collectAsList();
        assertEquals(texts.size(), rows.size());
        for (Row r : rows) {
            assertTrue(texts.contains(r.getString(0)));
            assertEquals(384, r.getList(1).size(), "MiniLM's dimension");
            assertNull(r.get(2));
        }
        // and the README shows exactly this code
        String readme = Files.readString(Path.of(System.getProperty("llama.project.dir", "../.."), "README.md"));
        String src = Files.readString(Path.of("src/test/java/org/llamajava/spark/ReadmeExample.java"));
        String code = src.substring(src.indexOf("// README-BEGIN") + 16, src.indexOf("    // README-END"));
        assertTrue(readme.contains(code.stripTrailing().stripIndent().strip()), "README.md shows ReadmeExample's code:\n" + code);
    }
}
