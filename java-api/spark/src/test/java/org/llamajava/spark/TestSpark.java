package org.llamajava.spark;

import org.apache.spark.sql.SparkSession;

/** One local[2] Spark session for all the tests of this JVM, on loopback, without a UI. */
final class TestSpark {
    private static SparkSession spark;

    private TestSpark() {}

    static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("llama-java-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.llamajava.cacheDir", System.getProperty("java.io.tmpdir") + "/llama-java-spark-test")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
        }
        return spark;
    }
}
