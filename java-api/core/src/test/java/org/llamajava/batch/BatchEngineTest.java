package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.TestSupport;

/**
 * The batching engine: concurrent requests give what each gives alone through a Sequence, a
 * shared prefix is evaluated once, and a full queue, cancellation and closing behave.
 */
class BatchEngineTest {
    @TempDir
    Path tmp;

    /** stories260K (real weights) where the shared models are, else the written tiny model. */
    private Path model() {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(tmp);
    }

    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily wanted to play",
        "One day, a boy named Tom", "The sun was", "She went to the park and", "There was a big tree",
        "Mom said"};

    private static Sampler.Builder samplerFor(int i) {
        return i % 2 == 0 ? Sampler.builder().greedy() : Sampler.builder().topK(40).temperature(0.8f).dist(1000 + i);
    }

    @Test
    void eightConcurrentRequestsGiveWhatEachGivesAlone() {
        try (Model model = Model.load(model())) {
            List<int[]> prompts = new ArrayList<>();
            List<int[]> alone = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                int[] p = model.vocabulary().tokenize(PROMPTS[i], true, true);
                prompts.add(p);
                try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(2).build());
                     Sequence s = ctx.newSequence();
                     Sampler sampler = samplerFor(i).build()) {
                    alone.add(s.generate(p, sampler, GenerateOptions.maxTokens(32)).tokens());
                }
            }
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(8).contextSize(2048)
                    .threads(2).build())) {
                List<BatchHandle> handles = new ArrayList<>();
                for (int i = 0; i < prompts.size(); i++) {
                    handles.add(engine.submit(new BatchRequest(prompts.get(i), samplerFor(i),
                            GenerateOptions.maxTokens(32))));
                }
                for (int i = 0; i < handles.size(); i++) {
                    Completion c = handles.get(i).completion().join();
                    assertArrayEquals(alone.get(i), c.tokens(), "request " + i + " (" + PROMPTS[i] + ")");
                    assertEquals(prompts.get(i).length, c.promptTokens() + c.cachedTokens());
                }
                EngineStats st = engine.stats();
                assertEquals(8, st.completed());
                assertEquals(0, st.activeSlots());
                assertTrue(st.decodes() < 8 * 33, "requests shared decodes: " + st);
            }
        }
    }

    @Test
    void aSharedPrefixIsEvaluatedOnce() {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(1024).build())) {
            int[] prefix = model.vocabulary().tokenize("Once upon a time, there was a little girl named Lily. She"
                    + " loved to play outside in the sun with her dog and her friends every day", true, true);
            int[] extra = model.vocabulary().tokenize(" and then", false, false);
            int[] second = new int[prefix.length + extra.length];
            System.arraycopy(prefix, 0, second, 0, prefix.length);
            System.arraycopy(extra, 0, second, prefix.length, extra.length);
            Completion a = engine.submit(BatchRequest.of(prefix, GenerateOptions.maxTokens(4))).completion().join();
            assertEquals(prefix.length, a.promptTokens());
            assertEquals(0, a.cachedTokens());
            Completion b = engine.submit(BatchRequest.of(second, GenerateOptions.maxTokens(4))).completion().join();
            assertEquals(prefix.length, b.cachedTokens(), "the prefix came from the slot's cache");
            assertEquals(extra.length, b.promptTokens(), "only the new tokens were evaluated");
            Completion again = engine.submit(BatchRequest.of(second, GenerateOptions.maxTokens(4))).completion().join();
            assertEquals(second.length - 1, again.cachedTokens(), "all but the last token, evaluated for its logits");
            assertArrayEquals(b.tokens(), again.tokens(), "the same prompt gives the same greedy tokens");
        }
    }

    @Test
    void samplerStagesThatNeedTheVocabularyWork() {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(512).build())) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time", true, true);
            int greedy = engine.submit(BatchRequest.of(prompt, GenerateOptions.maxTokens(1))).completion().join()
                    .tokens()[0];
            Completion banned = engine.submit(new BatchRequest(prompt, Sampler.builder()
                    .logitBias(greedy, Float.NEGATIVE_INFINITY).penalties(64, 1.1f, 0, 0).greedy(),
                    GenerateOptions.maxTokens(1))).completion().join();
            assertTrue(banned.tokens()[0] != greedy, "the logit bias banned the greedy token " + greedy);
        }
    }

    @Test
    void aFullQueueCancellationAndClosing() throws Exception {
        Model model = Model.load(model());
        BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(512).maxQueue(1)
                .build());
        int[] prompt = model.vocabulary().tokenize("Once upon a time", true, true);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BatchHandle first = engine.submit(BatchRequest.of(prompt, GenerateOptions.builder().maxTokens(100)
                .onToken(t -> {
                    inside.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }).build()));
        assertTrue(inside.await(30, TimeUnit.SECONDS), "the first request is generating");
        BatchHandle queued = engine.submit(BatchRequest.of(prompt, GenerateOptions.maxTokens(2)));
        QueueFullException full = assertThrows(QueueFullException.class,
                () -> engine.submit(BatchRequest.of(prompt, GenerateOptions.maxTokens(2))));
        assertTrue(full.getMessage().contains("retry later"), full.getMessage());
        assertEquals(1, engine.stats().queued());
        IllegalStateException busy = assertThrows(IllegalStateException.class, model::close);
        assertTrue(busy.getMessage().contains("in use"), busy.getMessage());

        first.cancel();
        release.countDown();
        Completion c = first.completion().get(30, TimeUnit.SECONDS);
        assertEquals(FinishReason.CANCELLED, c.finishReason());
        assertTrue(c.tokenCount() < 100);
        assertEquals(FinishReason.MAX_TOKENS, queued.completion().get(30, TimeUnit.SECONDS).finishReason(),
                "the queued request got the freed slot");

        assertThrows(IllegalArgumentException.class, () -> engine.submit(BatchRequest.of(new int[] {-1},
                GenerateOptions.maxTokens(1))));
        assertThrows(IllegalArgumentException.class, () -> engine.submit(BatchRequest.of(new int[600],
                GenerateOptions.maxTokens(1))), "longer than a slot");
        BatchHandle running = engine.submit(BatchRequest.of(prompt, GenerateOptions.maxTokens(10_000)));
        engine.close();
        engine.close();
        assertTrue(running.isDone(), "closing ends every request");
        try {
            assertEquals(FinishReason.MAX_TOKENS, running.completion().join().finishReason(), "or it had finished");
        } catch (CancellationException expected) {
            assertTrue(expected.getMessage().contains("closed"), expected.getMessage());
        }
        assertThrows(IllegalStateException.class, () -> engine.submit(BatchRequest.of(prompt,
                GenerateOptions.maxTokens(1))));
        model.close();
    }
}
