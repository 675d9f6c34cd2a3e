package org.llamajava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Model;
import org.llamajava.batch.EngineStats;
import org.llamajava.chat.ChatTemplate;

/**
 * A bounded soak on loopback: 16 clients (OpenAI's SDK) stream chat completions, and now and then
 * ask for a blocking completion, for {@code llama.server.soak.seconds} (30 by default), a quarter
 * of the streams dropped after a random number of chunks. No request may fail, every slot must be
 * free at the end, and the process's resident memory outside the Java heap must not grow past
 * warm-up by more than 10%.
 */
class ServerSoakTest {
    private static final int CLIENTS = 16;

    @TempDir
    Path tmp;

    private static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /**
     * Resident memory outside the Java heap, after a GC: the process's RSS less the heap's committed
     * size. The heap grows to what the run's pace asks of it (a busy machine's warm-up reaches less
     * of it) and is no leak; native memory (models, KV caches, samplers, threads) is what a leak grows.
     */
    private static long settledRss() throws IOException, InterruptedException {
        System.gc();
        Thread.sleep(200);
        return rssKiB() - (Runtime.getRuntime().totalMemory() >> 10);
    }

    @Test
    void sixteenStreamingClientsWithRandomCancellations() throws Exception {
        long seconds = Long.getLong("llama.server.soak.seconds", 30);
        boolean linux = Files.isReadable(Path.of("/proc/self/status"));
        try (Model model = Model.load(ServerFixture.generationModel(tmp));
             LlamaServer server = LlamaServer.start(model, ServerConfig.builder().port(0).slots(4).contextSize(4096)
                     .threads(1).chatTemplate(ChatTemplate.builtin("chatml")).build())) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl() + "/v1").apiKey("none")
                    .maxRetries(0).build();
            AtomicInteger finished = new AtomicInteger();
            AtomicInteger dropped = new AtomicInteger();
            AtomicInteger blocking = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(seconds);
            long warm = start + TimeUnit.SECONDS.toNanos(seconds) / 3;
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Random rnd = new Random(1000 + c);
                threads.add(new Thread(() -> {
                    while (System.nanoTime() < end && errors.isEmpty()) {
                        try {
                            if (rnd.nextInt(8) == 0) {
                                String text = client.completions().create(CompletionCreateParams.builder().model("any")
                                        .prompt("The little dog").maxTokens(1 + rnd.nextInt(32)).seed(rnd.nextInt())
                                        .build()).choices().get(0).text();
                                assertFalse(text == null);
                                blocking.incrementAndGet();
                                continue;
                            }
                            int drop = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(12) : -1;
                            ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("any")
                                    .addUserMessage("Tell me a story about " + rnd.nextInt(100))
                                    .temperature(rnd.nextDouble()).seed(rnd.nextInt())
                                    .maxCompletionTokens(8 + rnd.nextInt(120)).build();
                            int chunks = 0;
                            String finish = null;
                            try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
                                Iterator<ChatCompletionChunk> it = s.stream().iterator();
                                while (it.hasNext() && chunks != drop) {
                                    ChatCompletionChunk chunk = it.next();
                                    chunks++;
                                    for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                                        if (ch.finishReason().isPresent()) {
                                            finish = ch.finishReason().get().asString();
                                        }
                                    }
                                }
                            }
                            if (chunks == drop) {
                                dropped.incrementAndGet();
                            } else if (finish == null) {
                                throw new AssertionError("a stream ended without a finish reason");
                            } else {
                                finished.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            errors.add(t);
                        }
                    }
                }, "soak-client-" + c));
            }
            threads.forEach(Thread::start);
            while (System.nanoTime() < warm) {
                Thread.sleep(100);
            }
            long rssWarm = linux ? settledRss() : 0;
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(seconds + 120));
                assertFalse(t.isAlive(), t.getName() + " is stuck");
            }
            client.close();
            if (!errors.isEmpty()) {
                AssertionError e = new AssertionError(errors.size() + " requests failed; the first: " + errors.peek());
                errors.forEach(e::addSuppressed);
                throw e;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            EngineStats st = server.engineStats();
            while ((st.activeSlots() != 0 || st.queued() != 0) && System.nanoTime() < deadline) {
                Thread.sleep(10);
                st = server.engineStats();
            }
            assertEquals(0, st.activeSlots(), "no slot leaked: " + st);
            assertEquals(0, st.queued(), st.toString());
            String metrics = ServerFixture.get(server.baseUrl() + "/metrics").raw().body();
            assertFalse(metrics.contains("status=\"5"), "no 5xx answer:\n" + metrics);
            assertTrue(finished.get() > CLIENTS && dropped.get() > 0, "finished " + finished + ", dropped " + dropped);
            long rssEnd = linux ? settledRss() : 0;
            System.out.printf("soak %d s: %d streams finished, %d dropped, %d blocking; %d tokens in %d decodes;"
                    + " RSS less the Java heap %d MiB after warm-up, %d MiB at the end%n", seconds, finished.get(), dropped.get(),
                    blocking.get(), st.tokensGenerated(), st.decodes(), rssWarm >> 10, rssEnd >> 10);
            if (linux) {
                assertTrue(rssEnd <= rssWarm * 1.10, "RSS less the Java heap grew from " + rssWarm + " KiB to " + rssEnd + " KiB");
            }
        }
    }
}
