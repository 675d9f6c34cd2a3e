package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.TestSupport;

/** A pipeline of llama-java stages saved and loaded gives the same outputs, and keeps every setting. */
class PersistenceTest {
    @TempDir
    Path tmp;

    @Test
    void aSavedAndLoadedPipelineGivesTheSameOutputs() throws Exception {
        Path stories = TestSupport.sharedModel("stories260K.gguf");
        Path minilm = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        Dataset<Row> df = LlamaGeneratorTest.prompts(TestSpark.session(), List.of(LlamaGeneratorTest.PROMPTS), 2);
        LlamaGenerator gen = new LlamaGenerator().setModelPath(stories.toString()).setInputCol("prompt")
                .setOutputCol("story").setErrorCol("story_error").setMaxTokens(24).setTemperature(0.8f).setSeed(7)
                .setContextSize(1024).setStop(".");
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            new LlamaTokenCounter().setModelPath(stories.toString()).setInputCol("prompt").setOutputCol("n")
                    .setErrorCol("n_error"),
            gen,
            new LlamaEmbedder().setModelPath(minilm.toString()).setInputCol("story").setOutputCol("vec")
                    .setErrorCol("vec_error").setMaxSequences(1)});
        PipelineModel model = pipeline.fit(df);
        List<Row> before = model.transform(df).orderBy("id").collectAsList();

        String dir = tmp.resolve("pipeline").toString();
        model.write().overwrite().save(dir);
        PipelineModel loaded = PipelineModel.load(dir);
        assertNotSame(model, loaded);
        LlamaGenerator g = (LlamaGenerator) loaded.stages()[1];
        assertEquals(0.8f, (Float) g.getOrDefault(g.temperature()));
        assertEquals(List.of("."), List.of(g.getOrDefault(g.stop())));
        assertEquals(gen.uid(), g.uid());
        List<Row> after = loaded.transform(df).orderBy("id").collectAsList();
        assertEquals(before, after, "same outputs after save and load (sampled: seeds come from the rows)");

        // the unfitted pipeline too
        String pdir = tmp.resolve("unfitted").toString();
        pipeline.write().overwrite().save(pdir);
        assertEquals(before, Pipeline.load(pdir).fit(df).transform(df).orderBy("id").collectAsList());
    }
}
