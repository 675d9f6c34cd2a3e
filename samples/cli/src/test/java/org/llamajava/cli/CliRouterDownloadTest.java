package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's downloads and deletions against a fake Hugging Face endpoint (MODEL_ENDPOINT), as
 * llama.cpp's test_router_download_model and test_router_delete_model drive llama-server's:
 * {@code POST /models} answers {@code {"success": true}} and the download's events
 * ({@code model_status} downloading, {@code download_progress}, {@code download_finished}) come on
 * {@code /models/sse}; the loaded model keeps its only slot ({@code --models-max 1}) meanwhile; the
 * model is then listed, answers as the same file does under another name, and {@code DELETE /models}
 * stops it and removes its file. A repository that is not there, a file that is not there and an
 * endpoint that is down give {@code download_failed}; names that are no {@code ORG/REPO[:TAG]} (a path
 * that leaves the folder among them) are refused with 400; deleting what is not there, or not from the
 * cache, is llama-server's 500.
 */
class CliRouterDownloadTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REPO = "test-org/dl-GGUF";
    private static final String NAME = REPO + ":F16";

    @TempDir
    Path tmp;

    /** A fake hub: the tree API and resolve URLs of llama-java's ModelCache, from a map of repositories. */
    private static HttpServer fakeHub(Map<String, Map<String, byte[]>> repos, Map<String, List<String>> listedOnly,
                                      String stalled, CountDownLatch release) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        s.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-hub");
            t.setDaemon(true);
            return t;
        }));
        s.createContext("/", ex -> {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                if (path.startsWith("/api/models/") && path.endsWith("/tree/main")) {
                    String repo = path.substring("/api/models/".length(), path.length() - "/tree/main".length());
                    StringBuilder b = new StringBuilder("[");
                    Map<String, byte[]> files = repos.get(repo);
                    List<String> ghosts = listedOnly.getOrDefault(repo, List.of());
                    if (files == null && ghosts.isEmpty()) {
                        send(ex, 404, "{\"error\":\"Repository not found\"}".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    for (Map.Entry<String, byte[]> f : (files == null ? Map.<String, byte[]>of() : files).entrySet()) {
                        b.append(b.length() > 1 ? "," : "").append("{\"type\":\"file\",\"path\":\"").append(f.getKey())
                                .append("\",\"size\":").append(f.getValue().length).append(",\"lfs\":{\"oid\":\"")
                                .append(sha256(f.getValue())).append("\",\"size\":").append(f.getValue().length)
                                .append("}}");
                    }
                    for (String g : ghosts) {
                        b.append(b.length() > 1 ? "," : "").append("{\"type\":\"file\",\"path\":\"").append(g)
                                .append("\",\"size\":10}");
                    }
                    send(ex, 200, b.append("]").toString().getBytes(StandardCharsets.UTF_8));
                    return;
                }
                int r = path.indexOf("/resolve/main/");
                if (r > 0) {
                    Map<String, byte[]> files = repos.get(path.substring(1, r));
                    byte[] data = files == null ? null : files.get(path.substring(r + "/resolve/main/".length()));
                    if (data != null && path.substring(1, r).equals(stalled)) {
                        // a transfer that stalls after its first bytes, until the test releases it
                        ex.sendResponseHeaders(200, data.length);
                        OutputStream o = ex.getResponseBody();
                        o.write(data, 0, 4096);
                        o.flush();
                        try {
                            release.await(120, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return;
                    }
                    if (data != null) {
                        send(ex, 200, data);
                        return;
                    }
                }
                send(ex, 404, "Entry not found".getBytes(StandardCharsets.UTF_8));
            }
        });
        s.start();
        return s;
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> send(String method, String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode entry(String url, String id) throws Exception {
        HttpResponse<String> r = send("GET", url + "/models", null);
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode m : JSON.readTree(r.body()).get("data")) {
            if (m.get("id").asText().equals(id)) {
                return m;
            }
        }
        return null;
    }

    private static String completion(String url, String model) throws Exception {
        HttpResponse<String> r = send("POST", url + "/v1/completions", "{\"model\": \"" + model + "\", \"prompt\":"
                + " \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0}");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
    }

    /** Waits (bounded) for an event about the model; returns it. */
    private static JsonNode await(List<JsonNode> events, String event, String model) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode e : events) {
                if (e.path("event").asText().equals(event) && e.path("model").asText().equals(model)) {
                    return e;
                }
            }
            Thread.sleep(20);
        }
        return fail("no " + event + " event for " + model + " on /models/sse; got " + events);
    }

    private static void assertError(HttpResponse<String> r, int status, String type, String message) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertEquals(type, e.get("type").asText(), r.body());
        assertTrue(e.get("message").asText().contains(message), r.body());
    }

    @Test
    void downloadsThroughTheRouterStreamsItsEventsAndDeletes() throws Exception {
        Path model = CliTestSupport.model("stories260K.gguf");
        byte[] bytes = Files.readAllBytes(model);
        Path dir = tmp.resolve("models");
        Files.createDirectories(dir);
        Files.copy(model, dir.resolve("plain.gguf"));
        CountDownLatch release = new CountDownLatch(1);
        HttpServer hub = fakeHub(Map.of(REPO, Map.of("dl-F16.gguf", bytes, "README.md", new byte[] {'#'}),
                "test-org/slow-GGUF", Map.of("slow-Q8_0.gguf", bytes)),
                Map.of("test-org/ghost-GGUF", List.of("ghost-Q8_0.gguf")), "test-org/slow-GGUF", release);
        String endpoint = "http://127.0.0.1:" + hub.getAddress().getPort() + "/";
        List<JsonNode> events = new CopyOnWriteArrayList<>();
        Stream<String> sse = null;
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, Map.of("MODEL_ENDPOINT", endpoint),
                "--models-dir", dir.toString(), "--port", "0", "--models-max", "1", "-np", "1", "-c", "256", "-t", "1")) {
            String url = served.url();
            String plain = completion(url, "plain");
            assertEquals("loaded", entry(url, "plain").get("status").get("value").asText());

            // subscribed once the headers are back (the router subscribes before it sends them)
            HttpResponse<Stream<String>> stream = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/models/sse"))
                    .build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, stream.statusCode());
            assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            sse = stream.body();
            Stream<String> lines = sse;
            Thread reader = new Thread(() -> {
                try {
                    lines.forEach(l -> {
                        if (l.startsWith("data: ")) {
                            try {
                                events.add(JSON.readTree(l.substring(6)));
                            } catch (IOException e) {
                                events.add(JSON.createObjectNode().put("event", "unparsable").put("line", l));
                            }
                        }
                    });
                } catch (java.io.UncheckedIOException e) {
                    // the stream closed at the end of the test
                }
            });
            reader.setDaemon(true);
            reader.start();

            HttpResponse<String> post = send("POST", url + "/models", "{\"model\": \"" + NAME + "\"}");
            assertEquals(200, post.statusCode(), post.body());
            assertTrue(JSON.readTree(post.body()).get("success").asBoolean(), post.body());
            JsonNode finished = await(events, "download_finished", NAME);
            assertFalse(finished.has("data"), finished.toString());
            assertEquals("downloading", await(events, "model_status", NAME).get("data").get("status").asText());
            JsonNode last = null;
            for (JsonNode e : events) {
                if (e.path("event").asText().equals("download_progress")) {
                    last = e;
                }
            }
            assertNotNull(last, "download_progress events: " + events);
            JsonNode file = last.get("data").get("progress").elements().next();
            assertEquals(bytes.length, file.get("done").asLong(), last.toString());
            assertEquals(bytes.length, file.get("total").asLong(), last.toString());
            assertTrue(events.indexOf(await(events, "model_status", NAME)) < events.indexOf(finished), events.toString());

            // listed, from the cache, removable; the loaded model kept its (only) slot
            JsonNode listed = entry(url, NAME);
            assertNotNull(listed, NAME + " is not listed after its download");
            assertEquals("cache", listed.get("source").asText());
            assertTrue(listed.get("can_remove").asBoolean());
            assertEquals("unloaded", listed.get("status").get("value").asText());
            assertEquals("loaded", entry(url, "plain").get("status").get("value").asText());
            assertTrue(Files.isRegularFile(dir.resolve(REPO).resolve("dl-F16.gguf")));
            assertError(send("POST", url + "/models", "{\"model\": \"" + NAME + "\"}"), 400, "invalid_request_error",
                    "already exists");

            // it serves: the same file as plain, the same greedy answer
            assertEquals(plain, completion(url, NAME));
            assertEquals("loaded", await(events, "status_change", NAME).get("data").get("status").asText());

            // deleting a loaded model stops it and removes its file
            HttpResponse<String> del = send("DELETE", url + "/models?model=" + URLEncoder.encode(NAME,
                    StandardCharsets.UTF_8), null);
            assertEquals(200, del.statusCode(), del.body());
            assertTrue(JSON.readTree(del.body()).get("success").asBoolean(), del.body());
            await(events, "model_remove", NAME);
            assertEquals(null, entry(url, NAME), NAME + " is still listed after its deletion");
            assertFalse(Files.exists(dir.resolve(REPO)), "the repository's folder is left behind");
            assertTrue(Files.isRegularFile(dir.resolve("plain.gguf")));

            // llama-server's errors for what cannot be deleted
            assertError(send("DELETE", url + "/models?model=" + URLEncoder.encode(NAME, StandardCharsets.UTF_8), null),
                    500, "server_error", "not found");
            assertError(send("DELETE", url + "/models?model=plain", null), 500, "server_error", "not removable");
            assertError(send("DELETE", url + "/models", null), 400, "invalid_request_error", "non-empty");

            // names that are no ORG/REPO[:TAG]: nothing is fetched, nothing written
            for (String bad : new String[] {"../../etc", "test-org/../../x", "a/b/c", "plain", "/etc/passwd",
                    "test-org/x:../../y", "..\\\\x/y", "test-org/" + "x".repeat(300)}) {
                assertError(send("POST", url + "/models", "{\"model\": \"" + bad + "\"}"), 400, "invalid_request_error",
                        "invalid HF repo format");
            }
            assertError(send("POST", url + "/models", "{}"), 400, "invalid_request_error", "non-empty");

            // failed downloads: a repository that is not there, a listed file that is not there, the endpoint down
            for (String failing : new String[] {"test-org/missing-GGUF:Q8_0", "test-org/ghost-GGUF:Q8_0"}) {
                assertEquals(200, send("POST", url + "/models", "{\"model\": \"" + failing + "\"}").statusCode());
                JsonNode failed = await(events, "download_failed", failing);
                assertTrue(failed.get("data").get("error").asText().contains("not found"), failed.toString());
                assertEquals(null, entry(url, failing));
            }
            // a download that stalls: listed as downloading; DELETE cancels it at once and leaves nothing behind
            String slow = "test-org/slow-GGUF:Q8_0";
            assertEquals(200, send("POST", url + "/models", "{\"model\": \"" + slow + "\"}").statusCode());
            await(events, "download_progress", slow);
            JsonNode downloading = entry(url, slow);
            assertNotNull(downloading, slow + " is not listed while it downloads");
            assertEquals("downloading", downloading.get("status").get("value").asText(), downloading.toString());
            assertEquals("cache", downloading.get("source").asText());
            assertError(send("POST", url + "/models", "{\"model\": \"" + slow + "\"}"), 400, "invalid_request_error",
                    "already exists");
            HttpResponse<String> cancel = send("DELETE", url + "/models?model=" + URLEncoder.encode(slow,
                    StandardCharsets.UTF_8), null);
            assertEquals(200, cancel.statusCode(), cancel.body());
            assertEquals("cancelled", await(events, "download_failed", slow).get("data").get("error").asText());
            await(events, "model_remove", slow);
            assertEquals(null, entry(url, slow));
            assertFalse(Files.exists(dir.resolve("test-org/slow-GGUF")), "a cancelled download leaves its folder");
            release.countDown();

            // the streams are bounded: 16 at once (one is open), the 17th gets 503
            List<Stream<String>> more = new java.util.ArrayList<>();
            try {
                for (int i = 1; i < 16; i++) {
                    HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/models/sse"))
                            .build(), HttpResponse.BodyHandlers.ofLines());
                    assertEquals(200, r.statusCode());
                    more.add(r.body());
                }
                assertError(send("GET", url + "/models/sse", null), 503, "unavailable_error", "too many");
            } finally {
                more.forEach(Stream::close);
            }

            hub.stop(0);
            String down = "test-org/down-GGUF";
            assertEquals(200, send("POST", url + "/models", "{\"model\": \"" + down + "\"}").statusCode());
            await(events, "download_failed", down);
            assertEquals(null, entry(url, down));
            try (Stream<Path> left = Files.walk(dir)) {
                assertEquals(List.of(dir.resolve("plain.gguf")), left.filter(Files::isRegularFile).toList());
            }
            for (JsonNode e : events) {
                assertFalse(e.path("event").asText().equals("unparsable"), e.toString());
            }
        } finally {
            if (sse != null) {
                sse.close();
            }
            release.countDown();
            hub.stop(0);
        }
    }
}
