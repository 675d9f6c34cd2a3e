package org.llamajava.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.sql.SparkSession;
import org.llamajava.hub.FakeHub;

/**
 * One local[2] Spark session for all the tests of this JVM, on loopback, without a UI; its
 * Hugging Face endpoint is a {@link FakeHub} on loopback.
 */
final class TestSpark {
    private static SparkSession spark;
    private static FakeHub hub;

    private TestSpark() {}

    static synchronized SparkSession session() {
        if (spark == null) {
            try {
                hub = new FakeHub();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            spark = SparkSession.builder().master("local[2]").appName("llama-java-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.llamajava.modelEndpoint", hub.endpoint())
                    .config("spark.llamajava.cacheDir", System.getProperty("java.io.tmpdir") + "/llama-java-spark-test")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
        }
        return spark;
    }

    /** The session's Hugging Face endpoint. */
    static synchronized FakeHub hub() {
        session();
        return hub;
    }
}
