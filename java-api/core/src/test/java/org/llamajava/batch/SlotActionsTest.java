package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
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
 * llama-server's slot actions on the engine: a request pinned to a slot, a slot saved to a file in
 * llama.cpp's sequence state layout and restored into another slot, whose cache a later request
 * then reuses and whose greedy continuation equals a fresh context's (the oracle); erase empties
 * a slot; bad files and busy slots are refused with exceptions, never a crash.
 */
class SlotActionsTest {
    @TempDir
    Path tmp;

    private Path model() {
        Path shared = Path.of(System.getProperty("llama.models.dir", "../shared/models"), "stories260K.gguf");
        return Files.isRegularFile(shared) ? shared : TestSupport.writeTinyModel(tmp);
    }

    private static Completion greedy(Model model, int[] prompt, int n) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build());
             Sampler s = Sampler.greedy()) {
            return ctx.newSequence().generate(prompt, s, GenerateOptions.maxTokens(n));
        }
    }

    @Test
    void aSavedSlotRestoresIntoAnotherAndIsReused() throws Exception {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(512).threads(1)
                     .promptCacheBytes(0).build())) {
            int[] first = model.vocabulary().tokenize("Once upon a time, there was a little", true, true);
            Completion a = engine.submit(BatchRequest.of(first, GenerateOptions.maxTokens(8)), 1).completion()
                    .get(60, TimeUnit.SECONDS);
            assertEquals(first.length, a.promptTokens() + a.cachedTokens());

            Path file = tmp.resolve("slot1.bin");
            SlotSave saved = engine.saveSlot(1, file).get(60, TimeUnit.SECONDS);
            // the prompt and every generated token but the last (never evaluated) are in the slot
            assertEquals(first.length + a.tokenCount() - 1, saved.tokens());
            assertEquals(Files.size(file), saved.bytes());
            ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x67677371, head.getInt(), "llama.cpp's 'ggsq' magic");
            assertEquals(3, head.getInt(), "LLAMA_STATE_SEQ_VERSION");

            SlotSave restored = engine.restoreSlot(0, file).get(60, TimeUnit.SECONDS);
            assertEquals(saved.tokens(), restored.tokens());

            // the same prompt, continued, pinned to slot 0: it reuses the restored cache and writes what a fresh
            // context writes
            int[] again = Arrays.copyOf(first, first.length + 2);
            again[first.length] = a.tokens()[0];
            again[first.length + 1] = a.tokens()[1];
            Completion b = engine.submit(BatchRequest.of(again, GenerateOptions.maxTokens(6)), 0).completion()
                    .get(60, TimeUnit.SECONDS);
            assertEquals(again.length - 1, b.cachedTokens(), "all but the last prompt token come from the restored slot");
            assertEquals(greedy(model, again, 6).text(), b.text());

            assertEquals(again.length + b.tokenCount() - 1, engine.eraseSlot(0).get(60, TimeUnit.SECONDS));
            Completion c = engine.submit(BatchRequest.of(again, GenerateOptions.maxTokens(2)), 0).completion()
                    .get(60, TimeUnit.SECONDS);
            assertEquals(0, c.cachedTokens(), "an erased slot holds nothing");
        }
    }

    @Test
    void badFilesAndSlotsAreRefused() throws Exception {
        try (Model model = Model.load(model());
             BatchEngine engine = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(256).threads(1)
                     .build())) {
            assertThrows(IllegalArgumentException.class, () -> engine.saveSlot(2, tmp.resolve("x")));
            assertThrows(IllegalArgumentException.class, () -> engine.eraseSlot(-1));
            assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(BatchRequest.of(new int[] {1}, GenerateOptions.maxTokens(1)), 5));

            Path junk = tmp.resolve("junk.bin");
            Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> engine.restoreSlot(0, junk).get(60, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("not a saved slot"), e.getCause().getMessage());

            // a header that names more tokens than the file holds
            ByteBuffer lie = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            lie.putInt(0x67677371).putInt(3).putInt(1_000_000).putInt(1);
            Path truncated = tmp.resolve("truncated.bin");
            Files.write(truncated, lie.array());
            e = assertThrows(ExecutionException.class, () -> engine.restoreSlot(0, truncated).get(60, TimeUnit.SECONDS));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());

            // the engine still serves
            int[] p = model.vocabulary().tokenize("Hello", true, true);
            assertEquals(2, engine.submit(BatchRequest.of(p, GenerateOptions.maxTokens(2))).completion()
                    .get(60, TimeUnit.SECONDS).tokenCount());
        }
    }
}
