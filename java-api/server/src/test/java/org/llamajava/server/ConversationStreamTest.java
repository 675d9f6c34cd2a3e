package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.server.ServerFixture.Reply;

/**
 * llama-server's conversation streams (its server-stream): a streamed request with
 * {@code X-Conversation-Id} is kept, so that {@code GET /v1/stream} gives again the very bytes its
 * client got (the oracle: the original response), from any offset; a client that leaves does not
 * cancel the generation (resuming gives what an uninterrupted request gives); {@code DELETE}
 * cancels it and forgets it (404 after); the bounds (bytes per stream, streams, time to live) hold.
 */
class ConversationStreamTest {
    @TempDir
    Path tmp;

    private static final String HEADER = "X-Conversation-Id";

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Every byte a stream holds from {@code from} on (it has finished). */
    private static byte[] drain(ConversationStream s, long from) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] b = s.read(from, 7, 0); b != null; b = s.read(from, 7, 0)) {
            assertTrue(b.length > 0, "a finished stream never says 'nothing yet'");
            out.writeBytes(b);
            from += b.length;
        }
        return out.toByteArray();
    }

    // ---- the stream's buffer ----------------------------------------------------------------

    @Test
    void aStreamKeepsItsLastBytesAcrossTheRingsWrapsAndLosesTheOffsetsBelowThem() throws Exception {
        Random r = new Random(7);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ConversationStream s = new ConversationStream("c", 100);
        for (int i = 0; i < 500; i++) {
            byte[] b = new byte[r.nextInt(i % 50 == 49 ? 150 : 40)]; // now and then one piece over the limit
            r.nextBytes(b);
            assertTrue(s.append(b));
            all.writeBytes(b);
            byte[] want = all.toByteArray();
            assertEquals(want.length, s.totalBytes());
            long dropped = s.droppedBytes();
            assertEquals(Math.max(0, want.length - 100), dropped, "exactly the bytes over the limit are dropped");
            if (want.length > dropped) {
                long from = dropped + r.nextInt((int) (want.length - dropped));
                byte[] got = s.read(from, 1000, 0);
                assertArrayEquals(Arrays.copyOfRange(want, (int) from, want.length), got, "from " + from);
            }
            if (dropped > 0) {
                assertNull(s.read(dropped - 1, 1000, 0), "an offset below the dropped bytes is lost");
            }
        }
        assertSame(ConversationStream.NOTHING, s.read(s.totalBytes(), 10, 0), "nothing new yet: the stream goes on");
        s.finish();
        assertFalse(s.append(bytes("late")), "a finished stream takes nothing more");
        assertNull(s.read(s.totalBytes(), 10, 0), "the end");
        byte[] want = all.toByteArray();
        assertArrayEquals(Arrays.copyOfRange(want, want.length - 100, want.length), drain(s, s.droppedBytes()));
    }

    @Test
    void aReaderWaitsForTheProducerWithoutPollingAndACancelRunsTheHookOnce() throws Exception {
        ConversationStream s = new ConversationStream("c", 1024);
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
            try {
                waiting.countDown();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long from = 0;
                while (true) {
                    byte[] b = s.read(from, 1024, TimeUnit.MINUTES.toNanos(1));
                    if (b == null) {
                        return out.toByteArray();
                    }
                    out.writeBytes(b);
                    from += b.length;
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        waiting.await();
        s.append(bytes("data: 1\n\n"));
        s.append(bytes("data: 2\n\n"));
        AtomicInteger cancels = new AtomicInteger();
        s.onCancel(cancels::incrementAndGet);
        s.cancel();
        assertEquals("data: 1\n\ndata: 2\n\n", new String(reader.get(60, TimeUnit.SECONDS), StandardCharsets.UTF_8),
                "the reader got every byte, then the end");
        assertEquals(1, cancels.get());
        assertTrue(s.cancelled() && s.done());
        s.onCancel(cancels::incrementAndGet); // set after the stop: run at once
        assertEquals(2, cancels.get());
    }

    // ---- the streams' registry --------------------------------------------------------------

    @Test
    void theRegistryReplacesStopsMatchesAndStaysWithinItsBounds() {
        ConversationStreams streams = new ConversationStreams(2, 64, Duration.ofMinutes(5));
        assertNull(streams.open(null));
        assertNull(streams.open(""));
        ConversationStream a = streams.open("a::m1");
        AtomicInteger cancelled = new AtomicInteger();
        a.onCancel(cancelled::incrementAndGet);
        ConversationStream a2 = streams.open("a::m1");
        assertEquals(1, cancelled.get(), "a newer request on the conversation stops the older one");
        assertTrue(a.done());
        assertSame(a2, streams.get("a::m1"));
        ConversationStream b = streams.open("b");
        ApiException full = assertThrows(ApiException.class, () -> streams.open("c"), "two run: no room");
        assertEquals(503, full.status);
        b.finish();
        ConversationStream c = streams.open("c"); // the oldest finished one (b) makes room
        assertNull(streams.get("b"));
        assertEquals(2, streams.size());

        assertEquals(List.of(a2), streams.lookup(List.of("a")), "an id matches ID::MODEL");
        assertEquals(List.of(a2), streams.lookup(List.of("a::m1", "a")), "once");
        assertEquals(List.of(), streams.lookup(List.of("a::", "x")), "nothing else");
        assertEquals(List.of(c), streams.lookup(List.of("c")));

        assertTrue(streams.stop("c"));
        assertTrue(c.cancelled());
        assertFalse(streams.stop("c"));
        assertNull(streams.get("c"));

        ConversationStreams quick = new ConversationStreams(4, 64, Duration.ZERO);
        ConversationStream q = quick.open("q");
        assertSame(q, quick.get("q"), "a running stream never expires");
        q.finish();
        assertNull(quick.get("q"), "a finished one is forgotten after its time to live");
        streams.close();
        assertTrue(a2.done(), "closing finishes the streams");
        assertThrows(ApiException.class, () -> streams.open("d"));
    }

    // ---- over HTTP ----------------------------------------------------------------------------

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static HttpResponse<byte[]> raw(HttpRequest.Builder b) throws Exception {
        return ServerFixture.HTTP.send(b.timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> postStream(String url, String body, String conv) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (conv != null) {
            b.header(HEADER, conv);
        }
        return raw(b);
    }

    private static HttpResponse<byte[]> resume(String url, String conv, long from) throws Exception {
        return raw(HttpRequest.newBuilder(URI.create(url + "/v1/stream?conv_id=" + enc(conv) + "&from=" + from)).GET());
    }

    private static int delete(String url, String conv) throws Exception {
        return raw(HttpRequest.newBuilder(URI.create(url + "/v1/stream?conv_id=" + enc(conv))).DELETE()).statusCode();
    }

    private static JsonNode lookup(String url, String... ids) throws Exception {
        StringBuilder b = new StringBuilder("{\"conversation_ids\": [");
        for (int i = 0; i < ids.length; i++) {
            b.append(i > 0 ? ", " : "").append(ServerFixture.q(ids[i]));
        }
        Reply r = ServerFixture.post(url + "/v1/streams/lookup", b.append("]}").toString());
        assertEquals(200, r.status(), r.raw().body());
        return r.json();
    }

    /** The content a chat stream's events carry, and whether it ended with OpenAI's [DONE]. */
    private static String chatContent(String sse) throws Exception {
        StringBuilder content = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: ") && !line.equals("data: [DONE]")) {
                JsonNode c = ServerFixture.JSON.readTree(line.substring(6)).path("choices");
                if (c.size() > 0) {
                    content.append(c.get(0).path("delta").path("content").asText(""));
                }
            }
        }
        return content.toString();
    }

    private static String chat(int maxTokens, boolean stream) {
        return "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me a story\"}], \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0, \"ignore_eos\": true, \"stream\": " + stream + "}";
    }

    @Test
    void aFinishedStreamIsGivenAgainByteForByteFromAnyOffsetAndLookedUp() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            String url = s.baseUrl();
            String conv = "conv/1::org/model:Q8_0"; // slashes: the id travels in the query string
            HttpResponse<byte[]> first = postStream(url + "/v1/chat/completions", chat(24, true), conv);
            assertEquals(200, first.statusCode(), new String(first.body(), StandardCharsets.UTF_8));
            byte[] original = first.body();
            assertTrue(new String(original, StandardCharsets.UTF_8).endsWith("data: [DONE]\n\n"));

            HttpResponse<byte[]> again = resume(url, conv, 0);
            assertEquals(200, again.statusCode());
            assertEquals("text/event-stream", again.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            assertArrayEquals(original, again.body(), "the replay is the original response");
            int half = original.length / 2;
            assertArrayEquals(Arrays.copyOfRange(original, half, original.length), resume(url, conv, half).body());
            assertEquals(0, resume(url, conv, original.length).body().length, "from the end: nothing, then the end");

            JsonNode found = lookup(url, "conv/1", "someone-else");
            assertEquals(1, found.size(), found.toString());
            assertEquals(conv, found.get(0).get("conversation_id").asText());
            assertTrue(found.get(0).get("is_done").asBoolean());
            assertEquals(original.length, found.get(0).get("total_bytes").asLong());
            assertTrue(found.get(0).get("completed_at").asLong() >= found.get(0).get("started_at").asLong());

            // a request without the header, or blocking, leaves no stream
            assertEquals(200, postStream(url + "/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 4,"
                    + " \"stream\": true}", null).statusCode());
            assertEquals(200, postStream(url + "/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 4}", "blocking")
                    .statusCode());
            assertEquals(0, lookup(url, "blocking").size());

            // bad requests
            Reply missing = ServerFixture.get(url + "/v1/stream");
            assertEquals(400, missing.status(), missing.raw().body());
            assertEquals("conv_id", missing.error().get("param").asText());
            for (String bad : new String[] {"-1", "abc"}) {
                Reply r = ServerFixture.get(url + "/v1/stream?conv_id=" + enc(conv) + "&from=" + bad);
                assertEquals(400, r.status(), r.raw().body());
            }
            assertEquals(404, resume(url, "nobody", 0).statusCode());
            assertEquals(400, ServerFixture.post(url + "/v1/streams/lookup", "{\"conversation_ids\": \"x\"}").status());
            assertEquals(400, raw(HttpRequest.newBuilder(URI.create(url + "/v1/stream")).DELETE()).statusCode());

            assertEquals(204, delete(url, conv));
            assertEquals(404, resume(url, conv, 0).statusCode(), "a stopped stream is forgotten");
            assertEquals(0, lookup(url, "conv/1").size());
            assertEquals(204, delete(url, conv), "a stop is idempotent");
        }
    }

    @Test
    void aClientThatLeavesDoesNotCancelTheGenerationWhichResumesWhole() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerFixture.config(null).build())) {
            String url = s.baseUrl();
            // the oracle: the same greedy request, answered whole
            Reply whole = ServerFixture.post(url + "/v1/chat/completions", chat(48, false));
            assertEquals(200, whole.status(), whole.raw().body());
            String want = whole.json().get("choices").get(0).get("message").get("content").asText();

            URI u = URI.create(url);
            String body = chat(48, true);
            try (Socket sock = new Socket()) {
                sock.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
                OutputStream out = sock.getOutputStream();
                out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + HEADER
                        + ": dropped\r\nContent-Length: " + bytes(body).length + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = sock.getInputStream();
                StringBuilder seen = new StringBuilder();
                while (!seen.toString().contains("data: ")) { // the stream has started
                    int c = in.read();
                    assertTrue(c >= 0, "the server closed the stream: " + seen);
                    seen.append((char) c);
                }
            } // the client leaves mid-stream

            HttpResponse<byte[]> resumed = resume(url, "dropped", 0);
            assertEquals(200, resumed.statusCode());
            String sse = new String(resumed.body(), StandardCharsets.UTF_8);
            assertTrue(sse.endsWith("data: [DONE]\n\n"), "the generation went on to its end: " + sse);
            assertTrue(sse.contains("\"finish_reason\":\"length\""), sse);
            assertEquals(want, chatContent(sse), "the whole reply, as the uninterrupted request's");
        }
    }

    @Test
    void aStopCancelsARunningGenerationFreesItsSlotAndEndsItsReaders() throws Exception {
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer s = LlamaServer.start(model, ServerConfig.builder().port(0).slots(1).contextSize(256).threads(1)
                     .contextShift(true).build())) {
            String url = s.baseUrl();
            // 65536 tokens with context shift: it never ends on its own here
            CompletableFuture<HttpResponse<byte[]>> producer = CompletableFuture.supplyAsync(() -> {
                try {
                    return postStream(url + "/completion", "{\"prompt\": \"Once upon a time\", \"n_predict\": 65536,"
                            + " \"ignore_eos\": true, \"stream\": true}", "long");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (lookup(url, "long").size() == 0 || lookup(url, "long").get(0).get("total_bytes").asLong() < 200) {
                assertTrue(System.nanoTime() < deadline, "the stream did not start");
                Thread.sleep(20);
            }
            CompletableFuture<HttpResponse<byte[]>> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return resume(url, "long", 0);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertFalse(lookup(url, "long").get(0).get("is_done").asBoolean());

            assertEquals(204, delete(url, "long"));
            HttpResponse<byte[]> produced = producer.get(120, TimeUnit.SECONDS);
            String sse = new String(produced.body(), StandardCharsets.UTF_8);
            assertTrue(sse.contains("cancelled"), "the stopped stream ends with an error event: "
                    + sse.substring(Math.max(0, sse.length() - 300)));
            byte[] followed = reader.get(120, TimeUnit.SECONDS).body();
            assertTrue(followed.length > 0);
            assertArrayEquals(Arrays.copyOf(produced.body(), followed.length), followed,
                    "the reader got the producer's bytes up to the stop, then the end");
            assertTrue(s.engineStats().tokensGenerated() < 65536, "cancelled, not ended");
            Reply slots = ServerFixture.get(url + "/slots");
            for (int i = 0; i < 600 && slots.json().get(0).get("is_processing").asBoolean(); i++) {
                Thread.sleep(50);
                slots = ServerFixture.get(url + "/slots");
            }
            assertFalse(slots.json().get(0).get("is_processing").asBoolean(), "the slot is free");
            assertEquals(404, resume(url, "long", 0).statusCode());
            assertEquals(0, lookup(url, "long").size());
            assertNotNull(ServerFixture.post(url + "/completion", "{\"prompt\": \"Once\", \"n_predict\": 4}").json());
        }
    }
}
