package org.llamajava.spark;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The driver of MultiJvmEmbeddingTest, in its own JVM: Spark's local-cluster master (a standalone
 * master and 2 workers in this JVM, each worker launching its executor as a separate JVM) embeds
 * texts and writes "driver|executor pid, text, vector" lines. Args: model, texts file, output file,
 * the executors' class path, their JVM options.
 */
public final class MultiJvmMain {
    private MultiJvmMain() {}

    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("llama-java-multi-jvm")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.scheduler.minRegisteredResourcesRatio", "1.0") // both executors up before the job
                .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "180s")
                .config("spark.executor.extraClassPath", args[3])
                .config("spark.executor.extraJavaOptions", args[4])
                .config("spark.llamajava.cacheDir", System.getProperty("java.io.tmpdir") + "/llama-java-multi-jvm")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            List<String> texts = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
            JavaRDD<Row> withPid = spark.createDataset(texts, Encoders.STRING()).toDF("text").repartition(8).javaRDD()
                    .map(r -> RowFactory.create(r.getString(0), ProcessHandle.current().pid()));
            var df = spark.createDataFrame(withPid, new StructType().add("text", DataTypes.StringType)
                    .add("pid", DataTypes.LongType));
            List<Row> rows = new LlamaEmbedder().setModelPath(args[0]).setInputCol("text").setOutputCol("vec")
                    .setMaxSequences(1).setBatchSize(8).transform(df).collectAsList();
            List<String> lines = new ArrayList<>();
            lines.add("driver\t" + ProcessHandle.current().pid());
            for (Row r : rows) {
                if (!r.isNullAt(3)) {
                    throw new IllegalStateException("row failed: " + r.getString(3));
                }
                List<Float> v = r.getList(2);
                StringBuilder sb = new StringBuilder();
                v.forEach(x -> sb.append(sb.length() == 0 ? "" : ",").append(Float.floatToIntBits(x)));
                lines.add(r.getLong(1) + "\t" + r.getString(0) + "\t" + sb);
            }
            Files.write(Path.of(args[2]), lines, StandardCharsets.UTF_8);
        } finally {
            spark.stop();
        }
    }
}
