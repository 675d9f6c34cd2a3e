package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control vectors against {@code llama-completion --control-vector-scaled FILE:S
 * --control-vector-layer-range A B} (greedy, built from the same source), which loads the file with
 * common's loader and applies it with llama_set_adapter_cvec.
 */
class ControlVectorTest {
    static final String PROMPT = "Once upon a time";
    static final int N = 24;

    @TempDir
    static Path tmp;
    static Path base;
    static Path cv;
    static Model model;

    @BeforeAll
    static void write() {
        base = tmp.resolve("base.gguf");
        AdapterFiles.writeBase(base, AdapterFiles.SHAPE);
        cv = AdapterFiles.writeControlVector(tmp.resolve("cv.gguf"), 64, 4, 9, 2f);
        model = Model.load(base);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    static String generate(Context ctx) {
        try (Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            return s.generate(model.vocabulary().tokenize(PROMPT, true, true), greedy, GenerateOptions.maxTokens(N)).text();
        }
    }

    static String llamaCompletion(String... extra) throws Exception {
        return TestSupport.llamaCompletionText(base, PROMPT, N, extra);
    }

    @Test
    void equalsLlamaCompletionWithTheSameControlVector() throws Exception {
        String expected = llamaCompletion("--control-vector-scaled", cv + ":0.8", "--control-vector-layer-range", "2", "3");
        String plain = llamaCompletion();
        assertNotEquals(plain, expected, "the control vector must change the text for this test to mean anything");
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(256).build())) {
            assertEquals(plain, generate(ctx));
            ControlVector v = ControlVector.load(cv, 0.8f);
            ctx.setControlVector(v, 2, 3);
            assertEquals(expected, generate(ctx));
            ctx.clearControlVector();
            assertNull(ctx.controlVector());
            assertEquals(plain, generate(ctx));
            // every layer (common's default range 1..n_layer), and two files adding up
            ctx.setControlVector(ControlVector.sum(ControlVector.load(cv, 0.5f), ControlVector.load(cv, 0.3f)));
            assertEquals(llamaCompletion("--control-vector-scaled", cv + ":0.5," + cv + ":0.3"), generate(ctx));
        }
    }

    @Test
    void loadsDirectionsAndChecksThem() {
        ControlVector v = ControlVector.load(cv);
        assertEquals(64, v.embeddingSize());
        assertEquals(4, v.layerCount());
        ControlVector half = ControlVector.load(cv, 0.5f);
        assertEquals(v.direction(2)[5] * 0.5f, half.direction(2)[5]);
        ControlVector of = ControlVector.of(new float[][] {v.direction(1), v.direction(2), v.direction(3), v.direction(4)});
        assertArrayEquals(v.direction(4), of.direction(4));
        try (Context ctx = model.createContext(ContextParams.builder().contextSize(64).build())) {
            ControlVector narrow = ControlVector.of(new float[][] {new float[32]});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ctx.setControlVector(narrow));
            assertTrue(e.getMessage().contains("embedding size"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ctx.setControlVector(v, 0, 2));
            assertThrows(IllegalArgumentException.class, () -> ctx.setControlVector(v, 3, 2));
            assertThrows(IllegalArgumentException.class, () -> ctx.setControlVector(v, 1, 5));
        }
        assertThrows(LlamaException.class, () -> ControlVector.load(base), "a model is not a control vector");
        assertThrows(LlamaException.class, () -> ControlVector.load(tmp.resolve("missing.gguf")));
    }
}
