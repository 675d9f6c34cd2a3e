package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.TestSupport;

/**
 * {@link org.llamajava.PromptProgress}: the engine reports a prompt before any token is evaluated
 * and after each native batch of it (batches of the engine's batch size), ending at the prompt's
 * length, with the reused tokens as the cache; a Sequence reports the end.
 */
class PromptProgressTest {
    @TempDir
    Path tmp;

    private Path model() {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(tmp);
    }

    @Test
    void theEngineReportsEachBatchOfThePrompt() throws Exception {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(1).contextSize(256).batchSize(16)
                     .threads(1).build())) {
            int[] prompt = model.vocabulary().tokenize("the quick brown fox jumps over the lazy dog ".repeat(4), true,
                    true);
            List<int[]> seen = new ArrayList<>();
            GenerateOptions o = GenerateOptions.builder().maxTokens(2)
                    .onPromptProgress((total, cached, processed, nanos) -> seen.add(new int[] {total, cached, processed}))
                    .build();
            Completion c = engine.submit(BatchRequest.of(prompt, o)).completion().get(60, TimeUnit.SECONDS);
            assertEquals(0, c.cachedTokens());
            assertEquals(1 + (prompt.length + 15) / 16, seen.size(), "the start, then one per batch of 16");
            assertEquals(0, seen.get(0)[2]);
            for (int i = 1; i < seen.size(); i++) {
                assertEquals(prompt.length, seen.get(i)[0]);
                assertEquals(Math.min(prompt.length, 16 * i), seen.get(i)[2]);
            }

            // again: all but the last token come from the slot's cache
            seen.clear();
            Completion again = engine.submit(BatchRequest.of(prompt, o)).completion().get(60, TimeUnit.SECONDS);
            assertEquals(List.of(again.cachedTokens(), again.cachedTokens()), List.of(seen.get(0)[1], seen.get(0)[2]));
            assertEquals(prompt.length - 1, seen.get(0)[1]);
            assertEquals(prompt.length, seen.get(seen.size() - 1)[2]);
        }
    }

    @Test
    void aSequenceReportsTheEnd() {
        try (Model model = Model.load(model());
             Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build());
             Sampler greedy = Sampler.greedy()) {
            int[] prompt = model.vocabulary().tokenize("Once upon a time", true, true);
            List<int[]> seen = new ArrayList<>();
            ctx.newSequence().generate(prompt, greedy, GenerateOptions.builder().maxTokens(2)
                    .onPromptProgress((total, cached, processed, nanos) -> seen.add(new int[] {total, cached, processed}))
                    .build());
            assertEquals(1, seen.size());
            assertEquals(List.of(prompt.length, 0, prompt.length), List.of(seen.get(0)[0], seen.get(0)[1], seen.get(0)[2]));
            assertTrue(prompt.length > 2);
        }
    }
}
