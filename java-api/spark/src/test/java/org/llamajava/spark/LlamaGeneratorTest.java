package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;
import org.llamajava.chat.ChatMessage;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.grammar.JsonSchema;
import org.llamajava.structured.Structured;

/**
 * Generation through Spark against the core run alone: greedy text equal to a Sequence's row for
 * row, schema-constrained structs and records equal to the core's Structured, a bad row giving an
 * error cell, one model load for concurrent tasks, and a cancelled job freeing every slot.
 */
class LlamaGeneratorTest {
    static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily wanted to play",
        "One day, a boy named Tom", "The sun was", "She went to the park and", "There was a big tree", "Mom said",
        "The cat", "Ben and his friend"};

    static Dataset<Row> prompts(SparkSession spark, List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("prompt", DataTypes.StringType);
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    static Completion alone(Model model, String prompt, Sampler.Builder sampler, int maxTokens) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).threads(2).build());
             Sequence s = ctx.newSequence(); Sampler smp = sampler.build(model)) {
            return s.generate(model.vocabulary().tokenize(prompt, true, true), smp, GenerateOptions.maxTokens(maxTokens));
        }
    }

    @Test
    void greedyTextEqualsASequenceRowForRowAndAnOverlongRowIsAnErrorCell() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        List<String> texts = new ArrayList<>(List.of(PROMPTS));
        String overlong = "Once upon a time there was a girl. ".repeat(120);
        texts.add(overlong);
        List<Completion> expected = new ArrayList<>();
        long tokensIn = 0;
        long tokensOut = 0;
        try (Model model = Model.load(file)) {
            for (String p : PROMPTS) {
                Completion c = alone(model, p, Sampler.builder().greedy(), 48);
                expected.add(c);
                tokensIn += model.vocabulary().tokenize(p, true, true).length;
                tokensOut += c.tokens().length;
            }
        }
        LlamaGenerator gen = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt")
                .setOutputCol("text").setMaxTokens(48).setSlots(4).setContextSize(1024);
        List<Row> rows = gen.transform(prompts(TestSpark.session(), texts, 3)).collectAsList();
        assertEquals(texts.size(), rows.size());
        for (Row r : rows) {
            int id = r.getInt(0);
            if (id < PROMPTS.length) {
                assertNull(r.get(3), () -> "no error for row " + id + ": " + r.get(3));
                assertEquals(expected.get(id).text(), r.getString(2), "row " + id + " (" + PROMPTS[id] + ")");
            } else {
                assertNull(r.get(2), "the over-long row has no text");
                String error = r.getString(3);
                assertNotNull(error, "the over-long row has an error");
                assertTrue(error.matches("row \\d+:\\d+ \\(model .*stories260K.gguf\\): .*tokens.*"), error);
            }
        }
        LlamaMetrics m = gen.metrics();
        assertEquals(texts.size(), m.rows());
        assertEquals(1, m.rowsFailed());
        assertEquals(tokensIn, m.tokensIn());
        assertEquals(tokensOut, m.tokensOut());
        assertTrue(m.summary().contains(texts.size() + " rows, 1 failed, " + tokensIn + " tokens in, " + tokensOut
                + " tokens out"), m.summary());

        // failOnError: the same row fails the job, naming the row and the model
        Exception e = assertThrows(Exception.class, () -> gen.setFailOnError(true)
                .transform(prompts(TestSpark.session(), List.of(overlong), 1)).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("stories260K.gguf"), e.getMessage());
    }

    @Test
    void invalidUtf8IsAnErrorCell() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        StructType schema = new StructType().add("prompt", DataTypes.BinaryType);
        List<Row> rows = List.of(RowFactory.create((Object) "Once upon a time".getBytes(StandardCharsets.UTF_8)),
                RowFactory.create((Object) new byte[] {'O', 'n', (byte) 0xC3, '(', 'x'}));
        List<Row> out = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt").setMaxTokens(8)
                .setContextSize(512).transform(TestSpark.session().createDataFrame(rows, schema)).collectAsList();
        assertNull(out.get(0).get(2));
        assertTrue(out.get(0).getString(1).length() > 0);
        assertNull(out.get(1).get(1));
        assertTrue(out.get(1).getString(2).contains("invalid UTF-8 at byte 2"), out.get(1).getString(2));
    }

    static final String SCHEMA = """
        {"type": "object", "additionalProperties": false, "required": ["name", "age", "tags"],
         "properties": {
           "name": {"type": "string", "minLength": 1, "maxLength": 8},
           "age": {"type": "integer", "minimum": 0, "maximum": 120},
           "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "maxLength": 5}}}}""";

    /** A record the schema above fits. */
    public record Pet(String name, int age, List<String> tags) {}

    static Sampler.Builder sampling(int seed) {
        return Sampler.builder().topK(40).topP(0.95f).minP(0.05f).temperature(1f).dist(seed);
    }

    @Test
    void aJsonSchemaGivesAStructAndARecordRoundTrips() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        int n = 6;
        List<JsonNode> expected = new ArrayList<>();
        List<Pet> pets = new ArrayList<>();
        try (Model model = Model.load(file)) {
            for (int i = 0; i < n; i++) {
                try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).threads(2).build());
                     Sequence seq = ctx.newSequence()) {
                    expected.add(Structured.of(JsonNode.class, JsonSchema.of(SCHEMA)).generate(seq, "Pet " + i + ":",
                            sampling(100 + i), GenerateOptions.maxTokens(300)).value());
                }
                try (Context ctx = model.createContext(ContextParams.builder().contextSize(1024).threads(2).build());
                     Sequence seq = ctx.newSequence()) {
                    pets.add(Structured.of(Pet.class, JsonSchema.of(SCHEMA)).generate(seq, "Pet " + i + ":",
                            sampling(100 + i), GenerateOptions.maxTokens(300)).value());
                }
            }
        }
        List<Row> in = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.add(RowFactory.create(i, "Pet " + i + ":", 100L + i));
        }
        Dataset<Row> df = TestSpark.session().createDataFrame(in, new StructType().add("id", DataTypes.IntegerType)
                .add("prompt", DataTypes.StringType).add("seed", DataTypes.LongType)).repartition(2);
        LlamaGenerator gen = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt")
                .setOutputCol("pet").setSeedCol("seed").setTemperature(1f).setMaxTokens(300).setContextSize(2048)
                .setJsonSchema(SCHEMA);
        Dataset<Row> out = gen.transform(df);
        assertEquals("struct<name:string,age:bigint,tags:array<string>>",
                out.schema().apply("pet").dataType().simpleString());
        List<Row> got = out.collectAsList();
        for (Row r : got) {
            int id = r.getInt(0);
            assertNull(r.get(4), () -> "no error for row " + id + ": " + r.get(4));
            Row pet = r.getStruct(3);
            JsonNode want = expected.get(id);
            assertEquals(want.get("name").asText(), pet.getString(0), "name of row " + id);
            assertEquals(want.get("age").asLong(), pet.getLong(1), "age of row " + id);
            List<String> tags = new ArrayList<>();
            want.get("tags").forEach(t -> tags.add(t.asText()));
            assertEquals(tags, pet.getList(2), "tags of row " + id);
            assertEquals(pets.get(id), SparkSchemas.toRecord(pet, Pet.class), "the record of row " + id);
        }

        // the record class alone gives the record's struct type
        LlamaGenerator byRecord = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt")
                .setRecordClass(Pet.class);
        assertEquals("struct<name:string,age:bigint,tags:array<string>>",
                byRecord.transformSchema(df.schema()).apply("generated").dataType().simpleString());
    }

    static final CyclicBarrier BARRIER = new CyclicBarrier(2);

    @Test
    void twoConcurrentTasksLoadTheModelOnce() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        ExecutorModels.closeIdle(); // nothing runs now: start from no loaded model
        long before = ExecutorModels.loads();
        SparkSession spark = TestSpark.session();
        Dataset<Row> df = prompts(spark, List.of(PROMPTS), 2);
        // both tasks wait for each other before they ask for the model: they run at the same time
        JavaRDD<Row> together = df.javaRDD().mapPartitions((Iterator<Row> it) -> {
            BARRIER.await(120, TimeUnit.SECONDS);
            return it;
        });
        Dataset<Row> synced = spark.createDataFrame(together, df.schema());
        List<Row> out = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt").setMaxTokens(16)
                .setContextSize(1024).setThreads(1).transform(synced).collectAsList();
        assertEquals(PROMPTS.length, out.size());
        out.forEach(r -> assertNull(r.get(3)));
        assertEquals(1, ExecutorModels.loads() - before, "one load for two concurrent tasks");

        // a changed load parameter takes effect: another model is loaded, and the unused one closed
        new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt").setMaxTokens(4).setContextSize(1024)
                .setUseMmap(false).transform(df).collectAsList();
        assertEquals(2, ExecutorModels.loads() - before, "a load for the new parameters");
        assertEquals(1, ExecutorModels.loadedModels(), "the model under the old parameters was closed");
    }

    @Test
    void aChatMessagesColumnIsRenderedWithTheTemplate() {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        List<ChatMessage> chat = List.of(new ChatMessage("system", "You tell stories."),
                new ChatMessage("user", "Tell me about a dog."));
        String expected;
        try (Model model = Model.load(file);
             Context ctx = model.createContext(ContextParams.builder().contextSize(1024).threads(2).build());
             Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            String prompt = ChatTemplate.builtin("chatml").render(chat, true);
            expected = s.generate(ChatTemplate.promptTokens(prompt, model.vocabulary()), greedy,
                    GenerateOptions.maxTokens(24)).text();
        }
        StructType message = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
        StructType schema = new StructType().add("messages", DataTypes.createArrayType(message));
        List<Row> messages = new ArrayList<>();
        chat.forEach(m -> messages.add(RowFactory.create(m.role(), m.content())));
        Row in = RowFactory.create(scala.jdk.javaapi.CollectionConverters.asScala(messages).toSeq());
        List<Row> out = new LlamaGenerator().setModelPath(file.toString()).setInputCol("messages")
                .setChatTemplate("chatml").setMaxTokens(24).setContextSize(1024)
                .transform(TestSpark.session().createDataFrame(List.of(in), schema)).collectAsList();
        assertNull(out.get(0).get(2), () -> String.valueOf(out.get(0).get(2)));
        assertEquals(expected, out.get(0).getString(1));
    }

    @Test
    void aCancelledJobFreesEverySlot() throws Exception {
        Path file = TestSupport.sharedModel("stories260K.gguf");
        SparkSession spark = TestSpark.session();
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            many.add(PROMPTS[i % PROMPTS.length] + " " + i);
        }
        Dataset<Row> out = new LlamaGenerator().setModelPath(file.toString()).setInputCol("prompt")
                .setMaxTokens(400).setSlots(4).setContextSize(2048).transform(prompts(spark, many, 2));
        Throwable[] failure = new Throwable[1];
        Thread job = new Thread(() -> {
            spark.sparkContext().setJobGroup("cancel-me", "a long generation", true);
            try {
                out.collectAsList();
            } catch (Throwable t) {
                failure[0] = t;
            }
        });
        job.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (ExecutorModels.activeRequests() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(ExecutorModels.activeRequests() > 0, "the job got going");
        spark.sparkContext().cancelJobGroup("cancel-me");
        job.join(TimeUnit.SECONDS.toMillis(120));
        assertNotNull(failure[0], "the job was cancelled, not finished");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ExecutorModels.activeRequests() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, ExecutorModels.activeRequests(), "every slot and queued request was freed");
    }
}
