package org.llamajava.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.AdapterFiles;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.ControlVector;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.gguf.ModelShape;

/**
 * {@link BatchEngine#start(Model, EngineParams, Consumer)}: what the setup applies to the engine's
 * context (a LoRA adapter, a control vector) gives every slot the text a {@link Sequence} gives with
 * the same adapters; a failing setup reaches the caller and leaves nothing applied.
 */
class BatchEngineSetupTest {
    @TempDir
    static Path tmp;
    static Model model;
    static Path lora;
    static Path cv;
    static final ModelShape SHAPE = AdapterFiles.SHAPE;

    @BeforeAll
    static void write() {
        Path base = AdapterFiles.writeBase(tmp.resolve("base.gguf"), SHAPE);
        lora = AdapterFiles.writeLora(tmp.resolve("lora.gguf"), "llama", SHAPE, 4, 8f, 1);
        cv = AdapterFiles.writeControlVector(tmp.resolve("cv.gguf"), 64, 4, 9, 2f);
        model = Model.load(base);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static int[] prompt() {
        return model.vocabulary().tokenize("Once upon a time", true, true);
    }

    /** Greedy tokens through a Sequence of a context prepared by {@code setup}. */
    static int[] alone(Consumer<Context> setup) {
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).threads(1).build())) {
            setup.accept(ctx);
            try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
                return s.generate(prompt(), greedy, GenerateOptions.maxTokens(16)).tokens();
            }
        }
    }

    /** Greedy tokens of two concurrent requests on an engine prepared by {@code setup}. */
    static int[][] engine(Consumer<Context> setup) {
        try (BatchEngine e = BatchEngine.start(model, EngineParams.builder().slots(2).contextSize(512).threads(1).build(),
                setup)) {
            BatchHandle a = e.submit(new BatchRequest(prompt(), Sampler.builder().greedy(), GenerateOptions.maxTokens(16)));
            BatchHandle b = e.submit(new BatchRequest(prompt(), Sampler.builder().greedy(), GenerateOptions.maxTokens(16)));
            return new int[][] {a.completion().join().tokens(), b.completion().join().tokens()};
        }
    }

    @Test
    void everySlotGeneratesWithTheAdapters() {
        try (LoraAdapter a = LoraAdapter.load(model, lora)) {
            ControlVector v = ControlVector.load(cv, 0.8f);
            Consumer<Context> both = ctx -> {
                ctx.setLoraAdapter(a, 1f);
                ctx.setControlVector(v, 2, 3);
            };
            int[] plain = alone(ctx -> { });
            int[] expected = alone(both);
            assertFalse(Arrays.equals(plain, expected), "the adapters must change the text for this test to mean anything");
            int[][] got = engine(both);
            assertArrayEquals(expected, got[0], "slot 0");
            assertArrayEquals(expected, got[1], "slot 1");
            assertArrayEquals(plain, engine(null)[0], "without setup: the base model");
            // the engine closed its context: the adapter is no longer applied anywhere
            a.close();
            assertTrue(a.isClosed());
        }
    }

    @Test
    void aFailingSetupReachesTheCallerAndClosesTheContext() {
        try (LoraAdapter a = LoraAdapter.load(model, lora)) {
            AtomicReference<Context> seen = new AtomicReference<>();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchEngine.start(model,
                    EngineParams.builder().slots(1).contextSize(128).threads(1).build(), ctx -> {
                        seen.set(ctx);
                        ctx.setLoraAdapter(a, 1f);
                        ctx.setControlVector(ControlVector.of(new float[][] {new float[8]}));
                    }));
            assertTrue(e.getMessage().contains("embedding size"), e.getMessage());
            assertTrue(seen.get().isClosed(), "the engine's context was closed");
            a.close(); // not refused: no open context applies it
            assertSame(true, a.isClosed());
        }
    }
}
