package org.llamajava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.TestSupport;
import org.llamajava.hub.FakeHub;

/**
 * The model reaches the executors from a URL through Hadoop's FileSystem (copied once into the
 * cache, checked against its SHA-256), from a Hugging Face reference {@code ORG/REPO:QUANT} (pulled
 * once from a fake hub on loopback, checked against the hub's SHA-256) and from
 * SparkContext.addFile; a wrong checksum is a clear error.
 */
class ModelSourcesTest {
    @TempDir
    Path tmp;

    @Test
    void aUrlIsCopiedOnceAndCheckedAndAnAddedFileIsFound() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        String sha = ModelFiles.sha256(model);
        TestSpark.session();
        Path cached = ModelFiles.cacheDir().resolve(sha.substring(0, 16));
        if (Files.isDirectory(cached)) { // the cache is keyed by the checksum: empty it to see the copy
            try (var files = Files.list(cached)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
        }
        AtomicInteger gets = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        byte[] bytes = Files.readAllBytes(model);
        server.createContext("/", ex -> {
            if (ex.getRequestMethod().equals("GET")) {
                gets.incrementAndGet();
            }
            ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
            ex.sendResponseHeaders(200, ex.getRequestMethod().equals("HEAD") ? -1 : bytes.length);
            if (!ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseBody().write(bytes);
            }
            ex.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/run-" + System.nanoTime()
                    + "/stories260K.gguf";
            Dataset<Row> df = LlamaGeneratorTest.prompts(TestSpark.session(), List.of(LlamaGeneratorTest.PROMPTS), 2);
            LlamaGenerator gen = new LlamaGenerator().setModelPath(url).setModelSha256(sha).setInputCol("prompt")
                    .setMaxTokens(8).setContextSize(512);
            List<Row> viaUrl = gen.transform(df).orderBy("id").collectAsList();
            viaUrl.forEach(r -> assertNull(r.get(3), () -> String.valueOf(r.get(3))));
            gen.transform(df).collectAsList();
            assertEquals(1, gets.get(), "the file was copied once into the executor's cache");

            List<Row> local = new LlamaGenerator().setModelPath(model.toString()).setInputCol("prompt").setMaxTokens(8)
                    .setContextSize(512).transform(df).orderBy("id").collectAsList();
            assertEquals(local, viaUrl, "the copy is the model");

            String bad = url.replace("run-", "bad-");
            Exception e = assertThrows(Exception.class, () -> new LlamaGenerator().setModelPath(bad)
                    .setModelSha256("00".repeat(32)).setInputCol("prompt").transform(df).collectAsList());
            assertTrue(String.valueOf(e.getMessage()).contains("checksum mismatch"), e.getMessage());
        } finally {
            server.stop(0);
        }

        Path copy = Files.copy(model, tmp.resolve("added-stories.gguf"));
        TestSpark.session().sparkContext().addFile(copy.toString());
        List<Row> added = new LlamaTokenCounter().setModelPath("sparkfiles:added-stories.gguf").setInputCol("prompt")
                .transform(LlamaGeneratorTest.prompts(TestSpark.session(), List.of("Once upon a time"), 1))
                .collectAsList();
        assertNull(added.get(0).get(3));
        assertTrue(added.get(0).getInt(2) > 1);
    }

    @Test
    void aHubReferenceIsPulledOnceAndChecked() throws Exception {
        Path model = TestSupport.sharedModel("stories260K.gguf");
        byte[] bytes = Files.readAllBytes(model);
        FakeHub hub = TestSpark.hub();
        String repo = "org/stories-" + System.nanoTime() + "-GGUF"; // a fresh repository: nothing cached
        hub.put(repo, "stories260K-F32.gguf", bytes, FakeHub.sha256Of(bytes), 0);
        hub.put(repo, "stories260K-Q8_0.gguf", new byte[] {1, 2, 3}, FakeHub.sha256Of(new byte[] {1, 2, 3}), 0);
        hub.listing(repo, "[" + entry("stories260K-Q8_0.gguf", 3, FakeHub.sha256Of(new byte[] {1, 2, 3})) + ","
                + entry("stories260K-F32.gguf", bytes.length, FakeHub.sha256Of(bytes)) + "]");
        Dataset<Row> df = LlamaGeneratorTest.prompts(TestSpark.session(), List.of(LlamaGeneratorTest.PROMPTS), 2);

        LlamaGenerator gen = new LlamaGenerator().setModelPath(repo + ":F32").setInputCol("prompt").setMaxTokens(8)
                .setContextSize(512);
        List<Row> viaHub = gen.transform(df).orderBy("id").collectAsList();
        viaHub.forEach(r -> assertNull(r.get(3), () -> String.valueOf(r.get(3))));
        gen.transform(df).collectAsList();
        assertEquals(1, hub.log.stream().filter(l -> l.startsWith("GET /blobs/" + repo + "/")).count(),
                () -> "one download for two jobs: " + hub.log);
        assertEquals(List.of("GET /blobs/" + repo + "/stories260K-F32.gguf -"),
                hub.log.stream().filter(l -> l.startsWith("GET /blobs/" + repo + "/")).toList(), "the :F32 file");
        List<Row> local = new LlamaGenerator().setModelPath(model.toString()).setInputCol("prompt").setMaxTokens(8)
                .setContextSize(512).transform(df).orderBy("id").collectAsList();
        assertEquals(local, viaHub, "the pulled file is the model");

        // the user's checksum is checked too
        Exception e = assertThrows(Exception.class, () -> new LlamaGenerator().setModelPath(repo + ":F32")
                .setModelSha256("00".repeat(32)).setInputCol("prompt").transform(df).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("checksum mismatch"), e.getMessage());
        // a hub file that does not match the hub's checksum never becomes the model
        String bad = "org/bad-" + System.nanoTime() + "-GGUF";
        hub.put(bad, "m-F32.gguf", bytes, FakeHub.sha256Of(new byte[] {9}), 0);
        hub.listing(bad, "[" + entry("m-F32.gguf", bytes.length, FakeHub.sha256Of(new byte[] {9})) + "]");
        Exception mismatch = assertThrows(Exception.class, () -> new LlamaTokenCounter().setModelPath(bad)
                .setInputCol("prompt").transform(df).collectAsList());
        assertTrue(String.valueOf(mismatch.getMessage()).contains("checksum mismatch"), mismatch.getMessage());
    }

    private static String entry(String path, long size, String sha) {
        return "{\"type\":\"file\",\"path\":\"" + path + "\",\"size\":" + size
                + ",\"lfs\":{\"oid\":\"" + sha + "\",\"size\":" + size + "}}";
    }
}
