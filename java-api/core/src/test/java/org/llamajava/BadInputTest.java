package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;

/**
 * Bad files, bad parameters and misuse give a Java exception with a message; the JVM survives
 * (a native crash would kill the forked test JVM and fail the build).
 */
class BadInputTest {

    @TempDir
    static Path tmp;
    static Path model;
    static byte[] bytes;

    @BeforeAll
    static void writeModel() throws IOException {
        model = TestSupport.writeTinyModel(tmp);
        bytes = Files.readAllBytes(model);
    }

    private static LlamaException loadFails(Path p) {
        LlamaException e = assertThrows(LlamaException.class, () -> Model.load(p));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains(p.getFileName().toString()), e.getMessage());
        return e;
    }

    @Test
    void missingPath() {
        assertTrue(loadFails(tmp.resolve("nope.gguf")).getMessage().contains("not found"));
    }

    @Test
    void directory() {
        Path d = tmp.resolve("dir.gguf");
        d.toFile().mkdir();
        assertTrue(loadFails(d).getMessage().contains("directory"));
    }

    @Test
    void emptyFile() throws IOException {
        Path p = Files.write(tmp.resolve("empty.gguf"), new byte[0]);
        assertTrue(loadFails(p).getMessage().contains("empty"));
    }

    @Test
    void wrongMagic() throws IOException {
        Path p = Files.writeString(tmp.resolve("text.gguf"), "this is not a model, just some text\n");
        assertTrue(loadFails(p).getMessage().contains("magic"));
    }

    @Test
    void truncatedInHeader() throws IOException {
        for (int n : new int[] {4, 7, 16, 23, 100, 1000}) {
            Path p = Files.write(tmp.resolve("head" + n + ".gguf"), Arrays.copyOf(bytes, n));
            loadFails(p);
            assertThrows(GgufException.class, () -> GgufFile.read(p));
            assertThrows(LlamaException.class,
                    () -> Model.load(p, ModelParams.builder().vocabOnly(true).build()));
        }
    }

    @Test
    void truncatedInTensorData() throws IOException {
        GgufFile g = GgufFile.read(model);
        long dataStart = g.dataOffset();
        for (long n : new long[] {dataStart + 10, bytes.length / 2, bytes.length - 1000, bytes.length - 1}) {
            Path p = Files.write(tmp.resolve("data" + n + ".gguf"), Arrays.copyOf(bytes, (int) n));
            assertTrue(loadFails(p).getMessage().contains("truncated"));
        }
    }

    @Test
    void corruptCounts() throws IOException {
        // GGUF header: magic(4) version(4) n_tensors(8) n_kv(8); inflate the tensor count
        byte[] b = bytes.clone();
        b[8 + 7] = 0x7f;
        Path p = Files.write(tmp.resolve("count.gguf"), b);
        loadFails(p);
        byte[] v = bytes.clone();
        v[4] = 99; // unsupported version
        loadFails(Files.write(tmp.resolve("version.gguf"), v));
    }

    @Test
    void badParameters() {
        assertThrows(IllegalArgumentException.class, () -> ModelParams.builder().gpuLayers(-2).build());
        assertThrows(IllegalArgumentException.class, () -> ContextParams.builder().contextSize(-1).build());
        assertThrows(IllegalArgumentException.class, () -> ContextParams.builder().batchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> ContextParams.builder().threads(0).build());
        assertThrows(IllegalArgumentException.class, () -> ContextParams.builder().contextSize(Integer.MAX_VALUE).build());
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().topP(0f));
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().minP(1.5f));
        assertThrows(IllegalArgumentException.class, () -> Sampler.builder().temperature(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> Model.load(null));
    }

    @Test
    void badTokensAndOverflowAndMisuse() throws Exception {
        try (Model m = Model.load(model)) {
            Vocabulary v = m.vocabulary();
            assertThrows(IllegalArgumentException.class, () -> v.detokenize(new int[] {1, -1}));
            assertThrows(IllegalArgumentException.class, () -> v.tokenPiece(v.size()));
            assertThrows(IllegalArgumentException.class, () -> v.tokenize(null));
            assertEquals(0, v.tokenize("", false, false).length);
            // llama.cpp may round n_ctx up; the test reads the real size back
            try (Context ctx = m.createContext(ContextParams.builder().contextSize(32).batchSize(8).build());
                 Sampler s = Sampler.greedy()) {
                assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[] {1, v.size()}));
                assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[0]));
                assertThrows(IllegalStateException.class, ctx::logits, "no logits before any decode");
                assertThrows(IllegalStateException.class, () -> s.sample(ctx));
                int[] tooLong = new int[ctx.contextSize() + 1];
                Arrays.fill(tooLong, 5);
                assertThrows(ContextOverflowException.class, () -> ctx.decode(tooLong));
                assertEquals(0, ctx.position(), "a rejected decode evaluates nothing");
                // a prompt longer than n_batch is split into batches
                int[] twenty = new int[20];
                Arrays.fill(twenty, 6);
                ctx.decode(twenty);
                assertEquals(20, ctx.position());
                assertEquals(v.size(), ctx.logits().remaining());
                ContextOverflowException full = assertThrows(ContextOverflowException.class,
                        () -> ctx.generate(new int[0], s, ctx.contextSize() + 10, null));
                assertNotNull(full.partial(), "what was generated before the context filled is kept");
                assertEquals(ctx.contextSize() - 20, full.partial().tokens().length - 1);
                assertEquals(ctx.contextSize(), ctx.position());
                assertThrows(ContextOverflowException.class, () -> ctx.decode(new int[] {5}));
                ctx.clear();
                ctx.decode(new int[] {1, 5});
                assertEquals(2, ctx.position());
            }
        }
    }

    @Test
    void useAfterClose() {
        Model m = Model.load(model);
        Context ctx = m.createContext(ContextParams.builder().contextSize(32).build());
        Sampler s = Sampler.greedy();
        Vocabulary v = m.vocabulary();
        m.close();
        assertTrue(ctx.isClosed(), "closing the model closes its contexts");
        assertThrows(IllegalStateException.class, () -> ctx.decode(new int[] {1}));
        assertThrows(IllegalStateException.class, () -> v.tokenize("hi"));
        assertThrows(IllegalStateException.class, m::vocabulary);
        assertThrows(IllegalStateException.class, m::parameterCount);
        assertThrows(IllegalStateException.class, () -> m.createContext(ContextParams.defaults()));
        m.close(); // idempotent
        ctx.close();
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::reset);
    }

    @Test
    void contextUsedFromTwoThreads() throws Exception {
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sampler s = Sampler.greedy()) {
            int[] prompt = m.vocabulary().tokenize("Once upon a time");
            java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Thread t = new Thread(() -> ctx.generate(prompt, s, 3, piece -> {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }), "generator");
            t.start();
            assertTrue(inside.await(30, java.util.concurrent.TimeUnit.SECONDS));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ctx.decode(new int[] {5}));
            assertTrue(e.getMessage().contains("generator"), e.getMessage());
            assertThrows(IllegalStateException.class, ctx::close);
            IllegalStateException modelBusy = assertThrows(IllegalStateException.class, m::close);
            assertTrue(modelBusy.getMessage().contains("generator"), modelBusy.getMessage());
            assertTrue(!m.isClosed() && !ctx.isClosed(), "a refused close closes nothing");
            release.countDown();
            t.join();
            ctx.decode(new int[] {5}); // usable again once the other thread is done
        }
    }

    @Test
    void closingFromInsideACallbackIsRefused() {
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(64).build());
             Sampler s = Sampler.greedy()) {
            java.util.List<RuntimeException> seen = new java.util.ArrayList<>();
            Completion c = ctx.generate(m.vocabulary().tokenize("Once"), s, 3, piece -> {
                try {
                    ctx.close();
                } catch (IllegalStateException e) {
                    seen.add(e);
                }
                try {
                    m.close();
                } catch (IllegalStateException e) {
                    seen.add(e);
                }
            });
            assertEquals(3, c.tokens().length);
            assertTrue(seen.size() >= 2 && seen.stream().allMatch(e -> e.getMessage().contains("inside")), seen.toString());
            assertTrue(!ctx.isClosed());
        }
    }

    @Test
    void progressListenerCanCancel() {
        java.util.List<Float> seen = new java.util.ArrayList<>();
        assertThrows(LoadCancelledException.class, () -> Model.load(model,
                ModelParams.builder().progress(p -> { seen.add(p); return false; }).build()));
        assertEquals(1, seen.size(), "cancelled at the first report");
        java.util.List<Float> all = new java.util.ArrayList<>();
        try (Model m = Model.load(model, ModelParams.builder().progress(p -> all.add(p)).build())) {
            assertEquals(1.0f, all.get(all.size() - 1));
        }
        RuntimeException boom = new RuntimeException("listener failed");
        assertEquals(boom, assertThrows(RuntimeException.class, () -> Model.load(model,
                ModelParams.builder().progress(p -> { throw boom; }).build())));
    }
}
