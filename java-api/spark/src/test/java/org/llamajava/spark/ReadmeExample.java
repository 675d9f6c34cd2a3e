package org.llamajava.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** The README's Spark job, verbatim between the markers; ReadmeExampleTest runs it. */
public final class ReadmeExample {
    private ReadmeExample() {}

    // README-BEGIN
    public static void main(String[] args) { // input.parquet model.gguf output.parquet
        SparkSession spark = SparkSession.builder().appName("embed").getOrCreate();
        Dataset<Row> docs = spark.read().parquet(args[0]);      // has a string column "text"
        new LlamaEmbedder()
                .setModelPath(args[1])                          // a local path, hdfs://, s3a://, sparkfiles:NAME
                .setInputCol("text").setOutputCol("embedding")  // array<float>; setOutputFormat("vector") for ML
                .transform(docs)
                .write().parquet(args[2]);                      // text, embedding, error (null unless the row failed)
    }
    // README-END
}
