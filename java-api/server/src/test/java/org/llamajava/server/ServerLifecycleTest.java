package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.llamajava.server.ServerFixture.get;
import static org.llamajava.server.ServerFixture.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.Vocabulary;
import org.llamajava.batch.EngineStats;
import org.llamajava.chat.ChatTemplate;
import org.llamajava.server.ServerFixture.Reply;

/**
 * Busy and stopping servers: a full queue answers 503 with Retry-After, a client that leaves a
 * stream frees its slot, and close() lets running requests finish (or cancels them after the
 * drain timeout). Long generations ban the end-of-generation tokens, so that a request holds its
 * slot until it is cancelled or its many tokens are done.
 */
class ServerLifecycleTest {
    private static final long WAIT_MS = 60_000;

    @TempDir
    Path tmp;
    private Model model;
    private final List<LlamaServer> servers = new ArrayList<>();

    @BeforeEach
    void load() {
        model = Model.load(ServerFixture.generationModel(tmp));
    }

    @AfterEach
    void close() {
        servers.forEach(LlamaServer::close);
        model.close();
    }

    private LlamaServer start(ServerConfig.Builder b) {
        LlamaServer s = LlamaServer.start(model, b.port(0).threads(1).contextSize(8192)
                .chatTemplate(ChatTemplate.builtin("chatml")).build());
        servers.add(s);
        return s;
    }

    /** A JSON object banning the end-of-generation tokens. */
    private String banEnd() {
        Vocabulary v = model.vocabulary();
        StringBuilder sb = new StringBuilder("{");
        for (int t : new int[] {v.eos(), v.eot()}) {
            if (t != Vocabulary.NO_TOKEN && v.isEndOfGeneration(t)) {
                sb.append(sb.length() > 1 ? "," : "").append('"').append(t).append("\":-100");
            }
        }
        return sb.append('}').toString();
    }

    private String longChat(int maxTokens, boolean stream) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],\"temperature\":0,\"max_tokens\":"
                + maxTokens + ",\"stream\":" + stream + ",\"logit_bias\":" + banEnd() + "}";
    }

    /** A streamed request's SSE lines, read as they come. */
    private static Stream<String> openStream(String url, String body) {
        HttpRequest r = HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build();
        try {
            HttpResponse<Stream<String>> res = ServerFixture.HTTP.send(r, HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, res.statusCode());
            return res.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String nextData(Iterator<String> lines) {
        while (lines.hasNext()) {
            String l = lines.next();
            if (l.startsWith("data: ")) {
                return l.substring(6);
            }
        }
        return null;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "waited " + WAIT_MS + " ms for: " + what);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter() throws Exception {
        LlamaServer s = start(ServerConfig.builder().slots(1).maxQueue(1));
        String url = s.baseUrl();
        Stream<String> running = openStream(url, longChat(4000, true));
        Iterator<String> lines = running.iterator();
        assertNotNull(nextData(lines), "the first request is generating");
        // keep reading the first stream, so that the server's writes never block on a full socket (a
        // blocked write that times out would count as the client leaving, free the slot, and let the
        // queued request in before the third one arrives)
        Thread reader = new Thread(() -> {
            try {
                while (lines.hasNext()) {
                    lines.next();
                }
            } catch (RuntimeException closed) {
                // the test closed the stream
            }
        }, "first-stream-reader");
        reader.setDaemon(true);
        reader.start();
        CompletableFuture<HttpResponse<String>> queued = ServerFixture.HTTP.sendAsync(HttpRequest.newBuilder(
                URI.create(url + "/v1/chat/completions")).POST(HttpRequest.BodyPublishers.ofString(
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}")).build(),
                HttpResponse.BodyHandlers.ofString());
        await("the second request is queued", () -> s.engineStats().queued() == 1);
        Reply full = post(url + "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(503, full.status(), full.raw().body());
        assertEquals("1", full.header("Retry-After"));
        assertTrue(full.error().get("message").asText().contains("retry later"), full.raw().body());

        running.close(); // the first client leaves: its slot goes to the queued request
        assertEquals(200, queued.get(WAIT_MS, TimeUnit.MILLISECONDS).statusCode());
        await("no slot busy", () -> s.engineStats().activeSlots() == 0 && s.engineStats().queued() == 0);
    }

    @Test
    void aClientLeavingAStreamFreesItsSlot() {
        LlamaServer s = start(ServerConfig.builder().slots(2));
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey("none").maxRetries(0)
                .build();
        try {
            ChatCompletionCreateParams.LogitBias.Builder bias = ChatCompletionCreateParams.LogitBias.builder();
            bias.putAdditionalProperty(Integer.toString(model.vocabulary().eos()), JsonValue.from(-100));
            ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("any").addUserMessage("Once")
                    .temperature(0.0).maxCompletionTokens(4000).logitBias(bias.build()).build();
            int seen = 0;
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
                Iterator<ChatCompletionChunk> it = stream.stream().iterator();
                while (seen < 4 && it.hasNext()) {
                    it.next();
                    seen++;
                }
                assertEquals(1, s.engineStats().activeSlots(), "generating while the client reads");
            } // closing the SDK's stream drops the connection
            assertEquals(4, seen);
            await("the slot is free again", () -> s.engineStats().activeSlots() == 0);
            EngineStats st = s.engineStats();
            assertTrue(st.tokensGenerated() < 4000, "cancelled long before max_tokens: " + st);
            await("the abandoned stream is counted", () -> get(s.baseUrl() + "/metrics").raw().body()
                    .contains("llamajava_streams_abandoned_total 1.0"));
            Reply after = post(s.baseUrl() + "/v1/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3}");
            assertEquals(200, after.status(), "the server serves on");
        } finally {
            client.close();
        }
    }

    @Test
    void closeLetsRunningRequestsFinishAndRefusesNewOnes() throws Exception {
        LlamaServer s = start(ServerConfig.builder().slots(1).drainTimeout(Duration.ofMinutes(5)));
        String url = s.baseUrl();
        int max = 1500;
        Stream<String> running = openStream(url, longChat(max, true));
        Iterator<String> lines = running.iterator();
        assertNotNull(nextData(lines));
        Thread closer = new Thread(s::close, "closer");
        closer.start();
        await("draining", () -> get(url + "/health").status() == 503);
        Reply refused = post(url + "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        assertEquals(503, refused.status());
        assertEquals("1", refused.header("Retry-After"));

        String data;
        String last = null;
        String finish = null;
        while ((data = nextData(lines)) != null && !data.equals("[DONE]")) {
            JsonNode chunk = ServerFixture.JSON.readTree(data);
            assertFalse(chunk.has("error"), data);
            JsonNode f = chunk.get("choices").get(0).get("finish_reason");
            if (!f.isNull()) {
                finish = f.asText();
            }
            last = data;
        }
        assertEquals("[DONE]", data, "the running stream finished: " + last);
        assertEquals("length", finish);
        closer.join(WAIT_MS);
        assertFalse(closer.isAlive());
        assertThrows(UncheckedIOException.class, () -> get(url + "/health"), "stopped");
    }

    @Test
    void closeCancelsWhatIsStillRunningAfterTheDrainTimeout() {
        LlamaServer s = start(ServerConfig.builder().slots(1).drainTimeout(Duration.ZERO));
        Stream<String> running = openStream(s.baseUrl(), longChat(4000, true));
        Iterator<String> lines = running.iterator();
        assertNotNull(nextData(lines));
        s.close();
        String data;
        String last = null;
        while ((data = nextData(lines)) != null) {
            last = data;
            assertFalse(data.equals("[DONE]"), "a cancelled stream does not end as if complete");
        }
        assertNotNull(last);
        assertTrue(last.contains("\"error\"") && last.contains("shutting down"), last);
    }
}
