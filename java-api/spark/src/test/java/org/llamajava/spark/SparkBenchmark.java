package org.llamajava.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;

/**
 * Benchmarks for ci/bench-spark.sh (not a test):
 * <ul>
 *   <li>{@code embed MODEL N ROUNDS}: N sentences through the core Embedder alone (2 threads)
 *       against the same through LlamaEmbedder on Spark local[2] (2 partitions, written to the
 *       no-op sink), alternating, in one JVM; prints each round and the median ratio.</li>
 *   <li>{@code generate MODEL PROMPTS TOKENS ROUNDS}: generated tokens/s of 2 independent
 *       Sequences (one thread and half the prompts each, on 2 Java threads) against LlamaGenerator
 *       on Spark local[2] (2 concurrent tasks into one shared BatchEngine, 2 threads).</li>
 * </ul>
 */
public final class SparkBenchmark {
    private SparkBenchmark() {}

    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("llama-java-spark-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            if (args[0].equals("embed")) {
                embed(spark, Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            } else {
                generate(spark, Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]));
            }
        } finally {
            spark.stop();
        }
    }

    /** CPU seconds this process has used (all threads): less sensitive than wall time to other load on the machine. */
    static double cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static void embed(SparkSession spark, Path model, int n, int rounds) {
        List<String> texts = LlamaEmbedderTest.sentences(n);
        Dataset<Row> df = spark.createDataset(texts, Encoders.STRING()).toDF("text").repartition(2).cache();
        df.count();
        LlamaEmbedder embedder = new LlamaEmbedder().setModelPath(model.toString()).setInputCol("text")
                .setOutputCol("vec").setBatchSize(64);
        List<Double> ratios = new ArrayList<>();
        List<Double> cpuRatios = new ArrayList<>();
        List<Double> coreRates = new ArrayList<>();
        List<Double> sparkRates = new ArrayList<>();
        try (Model m = Model.load(model); Embedder e = Embedder.create(m, EmbedderParams.builder().threads(2).build())) {
            e.embedAll(texts.subList(0, 200)); // warm-up
            embedder.transform(df.limit(200)).write().format("noop").mode("overwrite").save();
            for (int r = 0; r < rounds; r++) {
                double c0 = cpu();
                long t0 = System.nanoTime();
                e.embedAll(texts);
                double core = (System.nanoTime() - t0) / 1e9;
                double coreCpu = cpu() - c0;
                c0 = cpu();
                t0 = System.nanoTime();
                embedder.transform(df).write().format("noop").mode("overwrite").save();
                double viaSpark = (System.nanoTime() - t0) / 1e9;
                double sparkCpu = cpu() - c0;
                ratios.add(viaSpark / core);
                cpuRatios.add(sparkCpu / coreCpu);
                coreRates.add(n / core);
                sparkRates.add(n / viaSpark);
                System.out.printf(Locale.ROOT, "round %d: core Embedder %.2f s (%.1f texts/s), Spark local[2] %.2f s"
                        + " (%.1f texts/s), Spark/core %.3f; CPU s core %.1f, Spark %.1f, Spark/core %.3f%n", r + 1,
                        core, n / core, viaSpark, n / viaSpark, viaSpark / core, coreCpu, sparkCpu, sparkCpu / coreCpu);
            }
        }
        System.out.printf(Locale.ROOT, "RESULT embed n=%d rounds=%d median core %.1f texts/s, median Spark %.1f texts/s,"
                + " median time ratio Spark/core %.3f (overhead %.1f%%), median CPU-time ratio %.3f%n", n, rounds,
                median(coreRates), median(sparkRates), median(ratios), (median(ratios) - 1) * 100, median(cpuRatios));
    }

    static void generate(SparkSession spark, Path model, int prompts, int tokens, int rounds) throws Exception {
        String[] starts = LlamaGeneratorTest.PROMPTS;
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            texts.add(starts[i % starts.length] + (i >= starts.length ? " " + i : ""));
        }
        Dataset<Row> df = LlamaGeneratorTest.prompts(spark, texts, 2).cache();
        df.count();
        LlamaGenerator gen = new LlamaGenerator().setModelPath(model.toString()).setInputCol("prompt")
                .setMaxTokens(tokens).setSlots(4).setContextSize(4 * 512);
        List<Double> seqRates = new ArrayList<>();
        List<Double> sparkRates = new ArrayList<>();
        List<Double> spark1Rates = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        gen.transform(df.limit(4)).write().format("noop").mode("overwrite").save(); // warm-up: load, engine, JIT
        try (Model m = Model.load(model)) {
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                List<Future<Long>> halves = new ArrayList<>();
                for (int h = 0; h < 2; h++) {
                    List<String> mine = texts.subList(h * prompts / 2, (h + 1) * prompts / 2);
                    halves.add(pool.submit(() -> {
                        long out = 0;
                        try (Context ctx = m.createContext(ContextParams.builder().contextSize(512).threads(1)
                                .build()); Sequence s = ctx.newSequence(); Sampler g = Sampler.greedy()) {
                            for (String p : mine) {
                                Completion c = s.generate(m.vocabulary().tokenize(p, true, true), g,
                                        GenerateOptions.maxTokens(tokens));
                                out += c.tokens().length;
                            }
                        }
                        return out;
                    }));
                }
                long seqTokens = 0;
                for (Future<Long> f : halves) {
                    seqTokens += f.get();
                }
                double seqTime = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                gen.transform(df).write().format("noop").mode("overwrite").save();
                double sparkTime = (System.nanoTime() - t0) / 1e9;
                long sparkTokens = gen.metrics().tokensOut();
                // the same engine with one thread (a tiny model gains nothing from a second: only barriers)
                gen.setThreads(1);
                t0 = System.nanoTime();
                gen.transform(df).write().format("noop").mode("overwrite").save();
                double spark1Time = (System.nanoTime() - t0) / 1e9;
                long spark1Tokens = gen.metrics().tokensOut();
                gen.setThreads(0);
                seqRates.add(seqTokens / seqTime);
                sparkRates.add(sparkTokens / sparkTime);
                spark1Rates.add(spark1Tokens / spark1Time);
                System.out.printf(Locale.ROOT, "round %d: 2 Sequences %d tokens in %.2f s (%.1f tokens/s); Spark"
                        + " local[2] shared engine, 2 threads: %d tokens in %.2f s (%.1f tokens/s); 1 thread: %d tokens"
                        + " in %.2f s (%.1f tokens/s)%n", r + 1, seqTokens, seqTime, seqTokens / seqTime, sparkTokens,
                        sparkTime, sparkTokens / sparkTime, spark1Tokens, spark1Time, spark1Tokens / spark1Time);
            }
        } finally {
            pool.shutdown();
        }
        System.out.printf(Locale.ROOT, "RESULT generate prompts=%d maxTokens=%d rounds=%d median 2 Sequences %.1f"
                + " tokens/s, median Spark shared engine %.1f tokens/s (2 threads), %.1f tokens/s (1 thread)%n", prompts,
                tokens, rounds, median(seqRates), median(sparkRates), median(spark1Rates));
    }
}
