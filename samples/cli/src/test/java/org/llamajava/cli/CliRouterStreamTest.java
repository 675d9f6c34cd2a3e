package org.llamajava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama-server's conversation streams through the router (its test_stream, with a model whose name
 * has a slash): the router remembers which model serves a conversation and forwards
 * {@code GET}/{@code DELETE /v1/stream?conv_id=} and {@code POST /v1/streams/lookup} to its child;
 * while the model loads a resume answers 503 and a stop cancels the waiting request (400,
 * "cancelled"); a client that leaves during the load still gets its stream recorded, resumable
 * after; a stop reaches the child and cancels a running generation. The router runs with
 * llama-server's {@code LLAMA_SERVER_DEBUG_FAKE_TIMING} (2 s more per load and per forwarded
 * request), so that the load window is always there to be seen.
 */
class CliRouterStreamTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "router-key";
    private static final String MODEL = "org/a-GGUF:Q8_0";

    @TempDir
    Path tmp;

    private static HttpResponse<String> send(String method, String url, String body, String conv) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY);
        if (conv != null) {
            b.header("X-Conversation-Id", conv);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String qs(String conv) {
        return "conv_id=" + URLEncoder.encode(conv, StandardCharsets.UTF_8);
    }

    private static String chat(int maxTokens) {
        return "{\"model\": \"" + MODEL + "\", \"stream\": true, \"max_tokens\": " + maxTokens + ", \"temperature\": 0,"
                + " \"ignore_eos\": true, \"messages\": [{\"role\": \"user\", \"content\": \"hello\"}]}";
    }

    private static String status(String url) throws Exception {
        for (JsonNode m : JSON.readTree(send("GET", url + "/models", null, null).body()).get("data")) {
            if (m.get("id").asText().equals(MODEL)) {
                return m.get("status").get("value").asText();
            }
        }
        return fail(MODEL + " is not listed");
    }

    /** Polls the resume route until it answers {@code want}; bounded. */
    private static HttpResponse<String> awaitResume(String url, String conv, int want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        HttpResponse<String> r;
        do {
            r = send("GET", url + "/v1/stream?" + qs(conv) + "&from=0", null, null);
            if (r.statusCode() == want) {
                return r;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return fail("the resume route did not answer " + want + "; last: " + r.statusCode() + " " + r.body());
    }

    @Test
    void theStreamRoutesReachTheChildThatServesTheConversation() throws Exception {
        Path dir = tmp.resolve("models");
        Path file = dir.resolve("org/a-GGUF/a-Q8_0.gguf");
        Files.createDirectories(file.getParent());
        Files.copy(CliTestSupport.model("stories260K.gguf"), file);
        try (CliTestSupport.Served served = CliTestSupport.serve(tmp, Map.of("LLAMA_SERVER_DEBUG_FAKE_TIMING", "1"),
                "--models-dir", dir.toString(), "--port", "0", "--api-key", KEY, "-np", "1", "-c", "256", "-t", "1",
                "--context-shift")) {
            String url = served.url();
            assertEquals(400, send("GET", url + "/v1/stream", null, null).statusCode(), "conv_id is required");
            assertEquals(404, send("GET", url + "/v1/stream?" + qs("nobody") + "&from=0", null, null).statusCode());

            // a stop while the model loads cancels the request that waits for it
            String stopped = "stop::" + MODEL;
            CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return send("POST", url + "/chat/completions", chat(512), stopped);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitResume(url, stopped, 503); // registered, its model not running yet: retry later
            assertEquals(204, send("DELETE", url + "/v1/stream?" + qs(stopped), null, null).statusCode());
            HttpResponse<String> cancelled = waiting.get(120, TimeUnit.SECONDS);
            assertEquals(400, cancelled.statusCode(), cancelled.body());
            assertTrue(cancelled.body().contains("cancelled"), cancelled.body());
            assertEquals(404, send("GET", url + "/v1/stream?" + qs(stopped) + "&from=0", null, null).statusCode());

            // a client that leaves during the load: its stream is recorded all the same, resumable after
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!status(url).equals("loaded")) {
                assertTrue(System.nanoTime() < deadline, "the model did not load");
                Thread.sleep(50);
            }
            assertEquals(200, send("POST", url + "/models/unload", "{\"model\": \"" + MODEL + "\"}", null).statusCode());
            while (!status(url).equals("unloaded")) {
                assertTrue(System.nanoTime() < deadline, "the model did not stop");
                Thread.sleep(50);
            }
            String dropped = "drop::" + MODEL;
            URI u = URI.create(url);
            String body = chat(16);
            try (Socket sock = new Socket()) {
                sock.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
                OutputStream out = sock.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Authorization: Bearer " + KEY + "\r\nX-Conversation-Id: " + dropped + "\r\nContent-Length: "
                        + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body)
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                awaitResume(url, dropped, 503);
            } // the client leaves while its model loads
            HttpResponse<String> resumed = awaitResume(url, dropped, 200);
            assertTrue(resumed.body().contains("data: ") && resumed.body().endsWith("data: [DONE]\n\n"), resumed.body());

            // a finished stream, through the router: the same bytes; the lookup asks the child
            String replay = "replay::" + MODEL;
            HttpResponse<String> original = send("POST", url + "/v1/chat/completions", chat(16), replay);
            assertEquals(200, original.statusCode(), original.body());
            assertEquals(original.body(), awaitResume(url, replay, 200).body());
            HttpResponse<String> lookup = send("POST", url + "/v1/streams/lookup", "{\"conversation_ids\": [\"" + replay
                    + "\", \"unknown\"]}", null);
            assertEquals(200, lookup.statusCode(), lookup.body());
            JsonNode found = JSON.readTree(lookup.body());
            assertEquals(1, found.size(), lookup.body());
            assertEquals(replay, found.get(0).get("conversation_id").asText());
            assertEquals(original.body().getBytes(StandardCharsets.UTF_8).length, found.get(0).get("total_bytes").asLong());

            // a stop reaches the child: a generation that would not end on its own is cancelled
            String running = "long::" + MODEL;
            CompletableFuture<HttpResponse<String>> producer = CompletableFuture.supplyAsync(() -> {
                try {
                    return send("POST", url + "/v1/chat/completions", chat(65536), running);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            while (true) {
                JsonNode l = JSON.readTree(send("POST", url + "/v1/streams/lookup", "{\"conversation_ids\": [\""
                        + running + "\"]}", null).body());
                if (l.size() == 1 && l.get(0).get("total_bytes").asLong() > 0) {
                    break;
                }
                assertTrue(System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(60), "the stream did not start");
                Thread.sleep(50);
            }
            assertEquals(204, send("DELETE", url + "/v1/stream?" + qs(running), null, null).statusCode());
            HttpResponse<String> stoppedRun = producer.get(120, TimeUnit.SECONDS);
            assertTrue(stoppedRun.body().contains("cancelled"), "the child stopped it");
            assertEquals(404, send("GET", url + "/v1/stream?" + qs(running) + "&from=0", null, null).statusCode());
        }
    }
}
