package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.embed.Embedder;
import org.llamajava.embed.EmbedderParams;

/**
 * Embeddings on 2 executor JVMs (Spark's local-cluster: a standalone master and 2 workers, started
 * from the Maven jars on loopback, each worker launching its executor as its own JVM) equal the
 * core Embedder's to 1e-6, and each executor loaded its own model.
 */
class MultiJvmEmbeddingTest {
    @TempDir
    Path tmp;

    @Test
    void twoExecutorJvmsEmbedAsTheCoreDoes() throws Exception {
        Path model = TestSupport.sharedModel("all-MiniLM-L6-v2-f16.gguf");
        List<String> texts = LlamaEmbedderTest.sentences(40);
        Path in = Files.write(tmp.resolve("texts.txt"), texts, StandardCharsets.UTF_8);
        Path out = tmp.resolve("out.tsv");
        Path sparkHome = Files.createDirectories(tmp.resolve("spark-home"));
        String cp = System.getProperty("java.class.path");
        String flags = System.getProperty("spark.test.jvm.flags", "").replaceAll("\\s+", " ").strip();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java));
        cmd.addAll(List.of(flags.split(" ")));
        cmd.addAll(List.of("-Dllama.models.dir=" + System.getProperty("llama.models.dir", ""), "-cp", cp,
                MultiJvmMain.class.getName(), model.toAbsolutePath().toString(), in.toString(), out.toString(), cp,
                flags));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("driver.log").toFile());
        // a worker builds its executor's command from SPARK_HOME: without a distribution there is no
        // jars folder, which Spark's launcher accepts only under SPARK_TESTING (then the class path
        // comes from spark.executor.extraClassPath alone); the Scala version is given, not detected
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_TESTING", "1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        Process p = pb.start();
        boolean done = p.waitFor(8, TimeUnit.MINUTES);
        if (!done) {
            p.destroyForcibly();
        }
        String log = Files.readString(tmp.resolve("driver.log"));
        assertTrue(done && p.exitValue() == 0, () -> "the driver JVM failed:\n"
                + log.substring(Math.max(0, log.length() - 6000)));

        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        long driver = Long.parseLong(lines.get(0).split("\t")[1]);
        List<float[]> expected;
        try (Model m = Model.load(model);
             Embedder e = Embedder.create(m, EmbedderParams.builder().maxSequences(1).threads(1).build())) {
            expected = e.embedAll(texts);
        }
        Set<Long> executors = new HashSet<>();
        assertEquals(texts.size(), lines.size() - 1);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t");
            executors.add(Long.parseLong(f[0]));
            float[] want = expected.get(texts.indexOf(f[1]));
            String[] bits = f[2].split(",");
            assertEquals(want.length, bits.length);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], Float.intBitsToFloat(Integer.parseInt(bits[i])), 1e-6f, f[1] + " [" + i + "]");
            }
        }
        assertEquals(2, executors.size(), "rows came from 2 executor JVMs: " + executors);
        assertFalse(executors.contains(driver), "not from the driver's JVM");
        assertFalse(executors.contains(ProcessHandle.current().pid()));
        assertTrue(new File(sparkHome.toString()).isDirectory());
    }
}
