package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Split GGUF models written by llama.cpp's {@code llama-gguf-split --split-max-tensors} (same
 * source) load, by their first part or as a list of parts, and generate what the whole file generates.
 */
class SplitModelTest {
    @TempDir
    static Path tmp;
    static Path whole;
    static List<Path> parts;

    @BeforeAll
    static void split() throws Exception {
        whole = tmp.resolve("whole.gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(whole);
        Path dir = Files.createDirectories(tmp.resolve("split"));
        TestSupport.Run r = TestSupport.runTool("llama-gguf-split", "--split", "--split-max-tensors", "5", whole.toString(),
                dir.resolve("tiny").toString());
        assertEquals(0, r.exitCode(), "llama-gguf-split failed: " + r.stderr());
        parts = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            Path p = dir.resolve(String.format("tiny-%05d-of-00005.gguf", i));
            assertTrue(Files.isRegularFile(p), "llama-gguf-split wrote " + p);
            parts.add(p);
        }
    }

    static int[] generate(Model m) {
        try (Context ctx = m.createContext(ContextParams.builder().contextSize(128).build());
             Sequence s = ctx.newSequence(); Sampler greedy = Sampler.greedy()) {
            return s.generate(m.vocabulary().tokenize("Once upon a time", true, true), greedy, GenerateOptions.maxTokens(24)).tokens();
        }
    }

    @Test
    void splitModelGeneratesWhatTheWholeFileGenerates() {
        int[] expected;
        try (Model m = Model.load(whole)) {
            expected = generate(m);
        }
        try (Model m = Model.load(parts.get(0))) {
            assertArrayEquals(expected, generate(m), "loaded by its first part");
            assertEquals(parts, m.parts());
        }
        try (Model m = Model.loadSplits(parts, ModelParams.defaults())) {
            assertArrayEquals(expected, generate(m), "loaded as a list of parts");
        }
    }

    @Test
    void partsMayBeNamedFreelyWithLoadSplits() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("renamed"));
        List<Path> renamed = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            renamed.add(Files.copy(parts.get(i), dir.resolve("part" + (char) ('a' + i) + ".gguf")));
        }
        int[] expected;
        try (Model m = Model.load(whole)) {
            expected = generate(m);
        }
        Path lora = AdapterFiles.writeLora(tmp.resolve("lora.gguf"), "llama", ModelShape.tiny(), 2, 2f, 1);
        try (Model m = Model.loadSplits(renamed, ModelParams.defaults())) {
            assertArrayEquals(expected, generate(m));
            assertEquals(renamed, m.parts());
            // an adapter is checked against the tensors of every part
            try (LoraAdapter a = LoraAdapter.load(m, lora)) {
                assertEquals(2f, a.alpha());
            }
        }
        // by its first part alone, renamed parts cannot be found: a clear error
        LlamaException e = assertThrows(LlamaException.class, () -> Model.load(renamed.get(0)));
        assertTrue(e.getMessage().contains("loadSplits"), e.getMessage());
    }

    @Test
    void missingOrMismatchedPartsAreClearErrors() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("broken"));
        List<Path> copy = new ArrayList<>();
        for (Path p : parts) {
            copy.add(Files.copy(p, dir.resolve(p.getFileName())));
        }
        LlamaException e = assertThrows(LlamaException.class, () -> Model.load(copy.get(1)));
        assertTrue(e.getMessage().contains("part 2 of 5") && e.getMessage().contains("first part"), e.getMessage());

        Files.delete(copy.get(2));
        e = assertThrows(LlamaException.class, () -> Model.load(copy.get(0)));
        assertTrue(e.getMessage().contains("part 3 of 5") && e.getMessage().contains("missing"), e.getMessage());

        Files.copy(copy.get(3), copy.get(2), StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(LlamaException.class, () -> Model.load(copy.get(0)));
        assertTrue(e.getMessage().contains("does not belong at part 3"), e.getMessage());

        e = assertThrows(LlamaException.class, () -> Model.loadSplits(parts.subList(0, 3), ModelParams.defaults()));
        assertTrue(e.getMessage().contains("5 parts") && e.getMessage().contains("3 parts were given"), e.getMessage());
        List<Path> swapped = new ArrayList<>(parts);
        java.util.Collections.swap(swapped, 1, 2);
        e = assertThrows(LlamaException.class, () -> Model.loadSplits(swapped, ModelParams.defaults()));
        assertTrue(e.getMessage().contains("does not belong at part 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Model.loadSplits(List.of(), ModelParams.defaults()));
    }
}
