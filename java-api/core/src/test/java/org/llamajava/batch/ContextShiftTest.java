package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.OverflowPolicy;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;

/**
 * llama-server's context shift in the batching engine ({@link EngineParams#overflow()}): with it,
 * a request generates past its slot's size, the slot dropping half of its tokens after the kept
 * ones each time it fills; without it, the request ends when its slot is full, one cell left free,
 * as llama-server's does.
 */
class ContextShiftTest {
    @TempDir
    Path tmp;

    private static final int SLOTS = 2;
    private static final int CONTEXT = 512;
    private static final int KEEP = 3;

    private Path model() {
        return TestSupport.storiesOrTinyModel(tmp);
    }

    private static Completion run(BatchEngine engine, int[] prompt, Sampler.Builder sampler, int max) throws Exception {
        return engine.submit(new BatchRequest(prompt, sampler, GenerateOptions.maxTokens(max)))
                .completion().get(120, TimeUnit.SECONDS);
    }

    @Test
    void withShiftARequestGeneratesPastItsSlotAndTheSlotKeepsTheStartAndTheLatestTokens() throws Exception {
        try (Model model = Model.load(model())) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time, there was a little girl", true, true);
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(SLOTS).contextSize(CONTEXT)
                    .promptCacheBytes(0).overflow(OverflowPolicy.shift(KEEP)).build())) {
                assertTrue(engine.contextShift());
                int perSlot = engine.tokensPerSlot();
                int max = 3 * perSlot;
                Completion c = run(engine, prompt, TestSupport.greedyWithoutEnd(model.vocabulary()), max);
                assertEquals(max, c.tokenCount());
                assertEquals(FinishReason.MAX_TOKENS, c.finishReason());
                assertEquals(prompt.length, c.timings().promptTokens());

                // llama-server's arithmetic: each time the tokens held and the one sampled fill the slot,
                // half of those after the kept ones go
                int held = prompt.length;
                int discarded = 0;
                int shifts = 0;
                for (int k = 1; k < max; k++) { // token k was sampled; it is decoded at the next step
                    if (held + 1 >= perSlot) {
                        int d = (held - KEEP) / 2;
                        held -= d;
                        discarded += d;
                        shifts++;
                    }
                    held++;
                }
                assertEquals(discarded, c.discardedTokens());
                assertTrue(shifts > 1, "the slot shifted " + shifts + " times");

                // what the slot holds: the kept start of the prompt, then the latest tokens
                int[] all = new int[prompt.length + max - 1]; // the last token sampled is never decoded
                System.arraycopy(prompt, 0, all, 0, prompt.length);
                System.arraycopy(c.tokens(), 0, all, prompt.length, max - 1);
                int[] expected = new int[held];
                System.arraycopy(all, 0, expected, 0, KEEP);
                System.arraycopy(all, all.length - (held - KEEP), expected, KEEP, held - KEEP);
                int[] cached = engine.cachedTokens().stream().filter(t -> t.length > 0).findFirst().orElseThrow();
                assertArrayEquals(expected, cached, Arrays.toString(cached));

                // the shifted slot serves the next request: a prompt that is what it holds reuses all of it but the last
                Completion again = run(engine, cached, TestSupport.greedyWithoutEnd(model.vocabulary()), 1);
                assertEquals(cached.length - 1, again.cachedTokens());
            }
        }
    }

    /**
     * A request's own keep (llama-server's per-request {@code n_keep}): its shifts keep its count of
     * tokens, not the engine's, and the next request on the engine keeps the engine's again.
     */
    @Test
    void aRequestKeepsItsOwnCountOfTokensAtAShift() throws Exception {
        int own = 9;
        try (Model model = Model.load(model())) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time, there was a little girl", true, true);
            try (BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256)
                    .promptCacheBytes(0).overflow(OverflowPolicy.shift(KEEP)).build())) {
                int perSlot = engine.tokensPerSlot();
                int max = 2 * perSlot;
                Completion c = engine.submit(new BatchRequest(prompt, TestSupport.greedyWithoutEnd(model.vocabulary()),
                        GenerateOptions.maxTokens(max), null, own)).completion().get(120, TimeUnit.SECONDS);
                assertEquals(max, c.tokenCount());
                int held = prompt.length;
                int discarded = 0;
                for (int k = 1; k < max; k++) {
                    if (held + 1 >= perSlot) {
                        int d = (held - own) / 2;
                        held -= d;
                        discarded += d;
                    }
                    held++;
                }
                assertEquals(discarded, c.discardedTokens(), "the shifts kept " + own + " tokens");
                int[] all = new int[prompt.length + max - 1];
                System.arraycopy(prompt, 0, all, 0, prompt.length);
                System.arraycopy(c.tokens(), 0, all, prompt.length, max - 1);
                int[] cached = engine.cachedTokens().stream().filter(t -> t.length > 0).findFirst().orElseThrow();
                assertEquals(held, cached.length);
                assertArrayEquals(Arrays.copyOf(all, own), Arrays.copyOf(cached, own), "the slot starts with the kept tokens");
                assertArrayEquals(Arrays.copyOfRange(all, all.length - (held - own), all.length),
                        Arrays.copyOfRange(cached, own, held), "then the latest");

                // the engine's keep for a request without its own
                Completion d = run(engine, prompt, TestSupport.greedyWithoutEnd(model.vocabulary()), max);
                int held2 = prompt.length;
                int discarded2 = 0;
                for (int k = 1; k < max; k++) {
                    if (held2 + 1 >= perSlot) {
                        int x = (held2 - KEEP) / 2;
                        held2 -= x;
                        discarded2 += x;
                    }
                    held2++;
                }
                assertEquals(discarded2, d.discardedTokens());
            }
        }
    }

    @Test
    void withoutShiftARequestEndsWhenItsSlotIsFullLeavingOneCell() throws Exception {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(SLOTS).contextSize(CONTEXT)
                     .promptCacheBytes(0).build())) {
            assertEquals(false, engine.contextShift());
            int[] prompt = model.vocabulary().tokenize("Once upon a time, there was a little girl", true, true);
            Completion c = run(engine, prompt, TestSupport.greedyWithoutEnd(model.vocabulary()), engine.tokensPerSlot());
            // llama-server's test_ctx_shift_disabled_short_prompt: 8 prompt tokens + 248 generated = a slot of 256
            assertEquals(engine.tokensPerSlot() - prompt.length, c.tokenCount());
            assertEquals(FinishReason.MAX_TOKENS, c.finishReason());
            assertEquals(0, c.discardedTokens());
        }
    }
}
