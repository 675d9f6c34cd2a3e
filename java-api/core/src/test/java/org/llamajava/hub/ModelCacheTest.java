package org.llamajava.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The models cache and its downloader against {@link FakeHub} on loopback (Hugging
 * Face's URL layout): a redirect with the LFS checksum, a transfer that breaks off and resumes with
 * a Range request, a partial file left by an earlier run, a checksum mismatch, llama.cpp's choice of
 * file for {@code ORG/REPO[:QUANT]}, and clear errors for a missing file and an unreachable
 * endpoint. Nothing here touches the internet.
 */
class ModelCacheTest {
    @TempDir
    Path tmp;

    private FakeHub hub;
    private ModelCache store;
    private final Recorder err = new Recorder();

    /** Records what a download told its listener. */
    static final class Recorder implements DownloadListener {
        final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile long lastBytes = -1;
        volatile long lastTotal = -2;

        @Override
        public void started(java.net.URI source, Path target) {
            events.add("started " + target.getFileName());
        }

        @Override
        public void progress(long bytes, long total) {
            if (bytes < lastBytes && total == lastTotal) {
                events.add("backwards " + bytes + " after " + lastBytes);
            }
            lastBytes = bytes;
            lastTotal = total;
        }

        @Override
        public void note(String message) {
            events.add("note " + message);
        }

        @Override
        public void ended() {
            events.add("ended");
        }
    }

    private static byte[] data(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
        store = new ModelCache(tmp.resolve("models"), hub.endpoint(), null);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void pullsAFileThroughTheRedirectAndChecksItsSha256() {
        byte[] d = data(300_000, 1);
        hub.put("org/repo", "sub/tiny.gguf", d, Downloader.sha256Of(d), 0);
        Path p = store.pull(ModelReference.parse("hf:org/repo/sub/tiny.gguf"), false, err);
        assertEquals(tmp.resolve("models/org/repo/sub/tiny.gguf"), p);
        assertArrayEquals(d, read(p));
        assertFalse(Files.exists(p.resolveSibling("tiny.gguf.part")), "no .part left");
        assertEquals(List.of("GET /org/repo/resolve/main/sub/tiny.gguf -", "GET /blobs/org/repo/sub/tiny.gguf -"),
                hub.log);
        assertEquals(List.of("started tiny.gguf", "ended"), err.events);
        assertEquals(d.length, err.lastBytes);
        assertEquals(d.length, err.lastTotal);
        // pulled once: -m finds it without a request, by reference and by name
        hub.log.clear();
        assertEquals(p, store.locate("hf:org/repo/sub/tiny.gguf", err));
        assertEquals(p, store.locate("tiny", err));
        assertEquals(p, store.locate("tiny.gguf", err));
        assertEquals(List.of(), hub.log);
    }

    @Test
    void aBrokenTransferResumesWithARangeRequest() {
        byte[] d = data(200_000, 2);
        hub.put("org/repo", "m.gguf", d, Downloader.sha256Of(d), 2);
        Path p = store.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err);
        assertArrayEquals(d, read(p));
        // the first transfer breaks off after 100000 bytes sent, the second after half of the rest, the third
        // completes; each resume asks for the bytes after those the client kept (a few of the sent bytes can be
        // lost when the connection ends, so the offsets are bounded, not exact)
        assertEquals(6, hub.log.size(), hub.log::toString);
        assertEquals("GET /org/repo/resolve/main/m.gguf -", hub.log.get(0));
        assertEquals("GET /blobs/org/repo/m.gguf -", hub.log.get(1));
        long previous = 0;
        for (int i = 2; i < 6; i += 2) {
            String resolve = hub.log.get(i);
            String blob = hub.log.get(i + 1);
            assertTrue(resolve.startsWith("GET /org/repo/resolve/main/m.gguf bytes="), hub.log::toString);
            long from = Long.parseLong(resolve.substring(resolve.indexOf("bytes=") + 6, resolve.length() - 1));
            assertEquals("GET /blobs/org/repo/m.gguf bytes=" + from + "-", blob, hub.log::toString);
            assertTrue(from > previous, "each resume starts after the last: " + hub.log);
            previous = from;
        }
        long first = Long.parseLong(hub.log.get(2).replaceAll(".*bytes=(\\d+)-$", "$1"));
        // what the client kept of the 100000 bytes sent (the JDK's client can drop its last buffer when the
        // connection ends early), and of the second transfer's half of the rest
        assertTrue(first > 50_000 && first <= 100_000, hub.log::toString);
        assertTrue(previous <= first + (200_000 - first) / 2, hub.log::toString);
    }

    @Test
    void aPartialFileFromAnEarlierRunResumes() throws IOException {
        byte[] d = data(100_000, 3);
        hub.put("org/repo", "m.gguf", d, Downloader.sha256Of(d), 0);
        Path part = Files.createDirectories(tmp.resolve("models/org/repo")).resolve("m.gguf.part");
        Files.write(part, Arrays.copyOf(d, 12_345));
        Path p = store.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err);
        assertArrayEquals(d, read(p));
        assertTrue(hub.log.contains("GET /blobs/org/repo/m.gguf bytes=12345-"), hub.log::toString);
    }

    @Test
    void aChecksumMismatchFailsAndDeletesTheDownload() {
        byte[] d = data(50_000, 4);
        hub.put("org/repo", "m.gguf", d, Downloader.sha256Of(data(50_000, 5)), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> store.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err));
        assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains("pull it again"),
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("models/org/repo/m.gguf")));
        assertFalse(Files.exists(tmp.resolve("models/org/repo/m.gguf.part")));
    }

    @Test
    void aRepositoryReferenceChoosesTheFileAsLlamaCppDoes() {
        byte[] q4 = data(1000, 6);
        byte[] q8 = data(2000, 7);
        hub.put("org/m-GGUF", "m-Q4_K_M.gguf", q4, null, 0);
        hub.put("org/m-GGUF", "m-Q8_0.gguf", q8, null, 0);
        hub.listing("org/m-GGUF", "[" + entry("README.md", 10, null) + "," + entry("mmproj-m-Q8_0.gguf", 5, null) + ","
                + entry("m-F16.gguf", 9, null) + "," + entry("m-Q8_0.gguf", q8.length, Downloader.sha256Of(q8)) + ","
                + entry("m-Q4_K_M.gguf", q4.length, Downloader.sha256Of(q4)) + "]");
        assertEquals("m-Q4_K_M.gguf", store.chooseFile(ModelReference.parse("org/m-GGUF")).path());
        assertEquals("m-Q8_0.gguf", store.chooseFile(ModelReference.parse("org/m-GGUF:q8_0")).path());
        assertEquals("m-F16.gguf", store.chooseFile(ModelReference.parse("org/m-GGUF:F16")).path());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> store.chooseFile(ModelReference.parse("org/m-GGUF:Q2_K")));
        assertTrue(none.getMessage().contains("m-Q4_K_M.gguf"), "lists what there is: " + none.getMessage());
        Path p = store.pull(ModelReference.parse("org/m-GGUF:Q8_0"), false, err);
        assertArrayEquals(q8, read(p));
    }

    @Test
    void aSplitModelIsPulledWhole() {
        byte[] a = data(1500, 10);
        byte[] b = data(1700, 11);
        hub.put("org/big", "q4/big-Q4_K_M-00001-of-00002.gguf", a, null, 0);
        hub.put("org/big", "q4/big-Q4_K_M-00002-of-00002.gguf", b, null, 0);
        hub.listing("org/big", "[" + entry("q4/big-Q4_K_M-00002-of-00002.gguf", b.length, Downloader.sha256Of(b)) + ","
                + entry("q4/big-Q4_K_M-00001-of-00002.gguf", a.length, Downloader.sha256Of(a)) + "]");
        Path first = store.pull(ModelReference.parse("org/big"), false, err);
        assertEquals(tmp.resolve("models/org/big/q4/big-Q4_K_M-00001-of-00002.gguf"), first);
        assertArrayEquals(a, read(first));
        assertArrayEquals(b, read(first.resolveSibling("big-Q4_K_M-00002-of-00002.gguf")));
    }

    @Test
    void theListingsChecksumIsChecked() {
        byte[] d = data(3000, 8);
        hub.put("org/r", "m-Q8_0.gguf", d, null, 0);
        hub.listing("org/r", "[" + entry("m-Q8_0.gguf", d.length, Downloader.sha256Of(data(3000, 9))) + "]");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> store.pull(ModelReference.parse("org/r"), false, err));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void aMissingFileOrRepositoryIsAClearError() {
        IllegalArgumentException file = assertThrows(IllegalArgumentException.class,
                () -> store.pull(ModelReference.parse("hf:org/repo/nope.gguf"), false, err));
        assertTrue(file.getMessage().contains("not found"), file.getMessage());
        IllegalArgumentException repo = assertThrows(IllegalArgumentException.class,
                () -> store.pull(ModelReference.parse("org/nope"), false, err));
        assertTrue(repo.getMessage().contains("not found"), repo.getMessage());
    }

    @Test
    void anUnreachableEndpointSaysOffline() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        ModelCache offline = new ModelCache(tmp.resolve("models"), "http://127.0.0.1:" + port + "/", null);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> offline.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err));
        assertTrue(e.getMessage().startsWith("cannot reach http://127.0.0.1:" + port + " (offline?)"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("models/org/repo/m.gguf.part")));
    }

    @Test
    void threadsPullingTheSameFileDownloadItOnce() throws Exception {
        byte[] d = data(400_000, 12);
        hub.put("org/repo", "m.gguf", d, Downloader.sha256Of(d), 0);
        // two caches on one folder: as two processes (executors on one host) would be
        ModelCache other = new ModelCache(tmp.resolve("models"), hub.endpoint(), null);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Path>> got = new java.util.ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < 4; i++) {
                ModelCache c = i % 2 == 0 ? store : other;
                got.add(pool.submit(() -> {
                    go.await();
                    return c.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, DownloadListener.NONE);
                }));
            }
            go.countDown();
            for (java.util.concurrent.Future<Path> f : got) {
                assertArrayEquals(d, read(f.get()));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, hub.log.stream().filter(l -> l.startsWith("GET /blobs/")).count(), hub.log::toString);
    }

    @Test
    void forceDownloadsAgain() {
        byte[] d = data(10_000, 13);
        hub.put("org/repo", "m.gguf", d, Downloader.sha256Of(d), 0);
        Path p = store.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err);
        store.pull(ModelReference.parse("hf:org/repo/m.gguf"), false, err);
        assertEquals(1, hub.log.stream().filter(l -> l.startsWith("GET /blobs/")).count(), hub.log::toString);
        assertEquals(p, store.pull(ModelReference.parse("hf:org/repo/m.gguf"), true, err));
        assertEquals(2, hub.log.stream().filter(l -> l.startsWith("GET /blobs/")).count(), hub.log::toString);
        assertArrayEquals(d, read(p));
    }

    @Test
    void referencesAndPaths() {
        ModelReference f = ModelReference.parse("hf:ggml-org/models/tinyllamas/stories260K.gguf");
        assertEquals(ModelReference.Kind.HF_FILE, f.kind());
        assertEquals("ggml-org/models", f.repo());
        assertEquals("tinyllamas/stories260K.gguf", f.file());
        ModelReference r = ModelReference.parse("bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M");
        assertEquals(ModelReference.Kind.HF_REPO, r.kind());
        assertEquals("Q4_K_M", r.quant());
        assertEquals(ModelReference.Kind.URL, ModelReference.parse("https://models.invalid/x/m.gguf?download=true").kind());
        assertEquals("m.gguf", ModelReference.parse("https://models.invalid/x/m.gguf?download=true").file());
        assertNull(ModelReference.parse("models/stories260K.gguf"), "a relative path ending in .gguf is a path");
        assertNull(ModelReference.parse("/abs/path/m.gguf"));
        assertNull(ModelReference.parse("stories260K"));
        assertThrows(IllegalArgumentException.class, () -> ModelReference.parse("hf:org/repo/../../etc/passwd.gguf"));
        assertThrows(IllegalArgumentException.class, () -> ModelReference.parse("hf:nonsense"));
    }

    private static String entry(String path, long size, String sha) {
        return "{\"type\":\"file\",\"path\":\"" + path + "\",\"size\":" + size
                + (sha == null ? "" : ",\"lfs\":{\"oid\":\"" + sha + "\",\"size\":" + size + "}") + "}";
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
