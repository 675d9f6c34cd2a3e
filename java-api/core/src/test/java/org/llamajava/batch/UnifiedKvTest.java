package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.ContextOverflowException;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.TestSupport;
import org.llamajava.Vocabulary;

/**
 * llama-server's {@code --kv-unified} in the engine ({@link EngineParams#unifiedKv()}): a slot
 * may hold the whole context and generates there what an engine of one slot generates; when the
 * slots fill the shared cells, an idle slot's cache makes room, and with none left every running
 * request fails with "Context size has been exceeded".
 */
class UnifiedKvTest {
    @TempDir
    Path tmp;

    private static final int CONTEXT = 256;

    private Path model() {
        return TestSupport.storiesOrTinyModel(tmp);
    }

    private static EngineParams.Builder params(int slots) {
        return EngineParams.builder().slots(slots).contextSize(CONTEXT).promptCacheBytes(0);
    }

    private static Completion run(BatchEngine engine, int[] prompt, Vocabulary v, int max) throws Exception {
        return engine.submit(new BatchRequest(prompt, TestSupport.greedyWithoutEnd(v), GenerateOptions.maxTokens(max)))
                .completion().get(120, TimeUnit.SECONDS);
    }

    @Test
    void aSlotHoldsTheWholeContextAndAnIdleSlotMakesRoom() throws Exception {
        try (Model model = Model.load(model())) {
            Vocabulary v = model.vocabulary();
            int[] first = v.tokenize("Once upon a time", true, true);
            int[] second = v.tokenize("The little dog", true, true);
            Completion expectedFirst;
            Completion expectedSecond;
            try (BatchEngine one = BatchEngine.start(model, params(1).build())) { // the oracle: one slot of 256
                expectedFirst = run(one, first, v, 200);
                one.eraseSlot(0).get(60, TimeUnit.SECONDS);
                expectedSecond = run(one, second, v, 150);
            }
            try (BatchEngine engine = BatchEngine.start(model, params(4).unifiedKv(true).build())) {
                assertEquals(CONTEXT, engine.tokensPerSlot());
                Completion a = run(engine, first, v, 200); // 4 slots of 64 could not hold it
                assertArrayEquals(expectedFirst.tokens(), a.tokens());
                // its cache stays in its slot (no prompt cache) and leaves too few cells for the next one
                Completion b = run(engine, second, v, 150);
                assertArrayEquals(expectedSecond.tokens(), b.tokens(), "generated in the room the idle slot left");
                long holding = engine.cachedTokens().stream().filter(t -> t.length > 0).count();
                assertEquals(1, holding, "the idle slot's cache went");
            }
            try (BatchEngine engine = BatchEngine.start(model, params(4).build())) {
                assertThrows(IllegalArgumentException.class, () -> engine.submit(BatchRequest.of(new int[100],
                        GenerateOptions.maxTokens(1))), "without it a slot holds 64");
            }
        }
    }

    @Test
    void whenRunningRequestsFillTheContextTheyFail() throws Exception {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, params(4).unifiedKv(true).build())) {
            Vocabulary v = model.vocabulary();
            int[] prompt = v.tokenize("Once upon a time", true, true);
            CountDownLatch submitted = new CountDownLatch(1);
            // the first request waits, on the engine's thread, for the others: all four run together,
            // and four times 80 tokens and their prompts do not fit in 256 cells
            GenerateOptions waits = GenerateOptions.builder().maxTokens(80).onToken(t -> {
                try {
                    submitted.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).build();
            List<BatchHandle> handles = new ArrayList<>();
            handles.add(engine.submit(new BatchRequest(prompt, TestSupport.greedyWithoutEnd(v), waits)));
            for (int i = 0; i < 3; i++) {
                handles.add(engine.submit(new BatchRequest(prompt, TestSupport.greedyWithoutEnd(v), GenerateOptions.maxTokens(80))));
            }
            submitted.countDown();
            for (BatchHandle h : handles) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(120, TimeUnit.SECONDS));
                assertInstanceOf(ContextOverflowException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("Context size has been exceeded"), e.getCause().getMessage());
            }
            // the engine goes on: its slots were emptied
            assertEquals(80, run(engine, prompt, v, 80).tokenCount());
        }
    }
}
