package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/** Saving a sequence and loading it back continues exactly as if it had never stopped. */
class StateTest {
    @TempDir
    Path tmp;

    static Path writeModel(Path dir, long seed) {
        Path p = dir.resolve("state-" + seed + ".gguf");
        new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(seed).scale(4f).write(p);
        return p;
    }

    /** Evaluates a prompt, generates 5 tokens, saves; returns the next 12 greedy tokens. */
    static int[] saveAndContinue(Path modelFile, Path state) {
        try (Model m = Model.load(modelFile);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            s.generate(m.vocabulary().tokenize("Once upon a time the girl"), g, GenerateOptions.maxTokens(5));
            s.save(state);
            return s.generate(g, GenerateOptions.maxTokens(12)).tokens();
        }
    }

    /** Loads the state into a new context and returns the next 12 greedy tokens. */
    static int[] loadAndContinue(Path modelFile, Path state) {
        try (Model m = Model.load(modelFile);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).sequences(2).build());
             Sequence other = ctx.newSequence();
             Sequence s = ctx.newSequence();
             Sampler g = Sampler.greedy()) {
            other.append(m.vocabulary().tokenize("unrelated text in another sequence"));
            s.load(state);
            return s.generate(g, GenerateOptions.maxTokens(12)).tokens();
        }
    }

    @Test
    void roundTripInTheSameProcess() {
        Path model = writeModel(tmp, 5);
        Path state = tmp.resolve("seq.state");
        int[] expected = saveAndContinue(model, state);
        assertEquals(12, expected.length);
        assertArrayEquals(expected, loadAndContinue(model, state));
    }

    @Test
    void roundTripInANewProcess() throws Exception {
        Path model = writeModel(tmp, 5);
        Path state = tmp.resolve("seq.state");
        int[] expected = saveAndContinue(model, state);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StateTest.class.getName(), model.toString(),
                state.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertEquals(Arrays.toString(expected), out);
    }

    /** The new process of {@link #roundTripInANewProcess}: prints the continuation's tokens. */
    public static void main(String[] args) {
        System.out.println(Arrays.toString(loadAndContinue(Path.of(args[0]), Path.of(args[1]))));
    }

    @Test
    void badStateFilesGiveClearErrors() throws Exception {
        Path model = writeModel(tmp, 5);
        Path state = tmp.resolve("seq.state");
        saveAndContinue(model, state);
        byte[] good = Files.readAllBytes(state);
        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x55;
        byte[] random = new byte[4096];
        new Random(1).nextBytes(random);
        Path otherModel = writeModel(tmp, 6); // same shape, other weights: still another model
        Path bigger = tmp.resolve("bigger.gguf");
        new LlamaModelWriter(new ModelShape(64, 3, 4, 2, 128, 512), TestSupport.tinyVocabulary()).write(bigger);
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
             Sequence s = ctx.newSequence()) {
            assertThrows(LlamaException.class, () -> s.load(tmp.resolve("missing.state")));
            assertTrue(fails(s, Files.write(tmp.resolve("flipped"), flipped)).contains("checksum"));
            assertTrue(fails(s, Files.write(tmp.resolve("cut"), Arrays.copyOf(good, good.length - 100)))
                    .contains("checksum"));
            assertTrue(fails(s, Files.write(tmp.resolve("random"), random)).contains("not a llama-java"));
            assertTrue(fails(s, Files.write(tmp.resolve("empty"), new byte[0])).contains("not a llama-java"));
            assertEquals(0, s.length(), "nothing half-loaded");
            s.load(state);
            assertTrue(s.length() > 0, "still usable after the failures");
        }
        for (Path other : List.of(bigger)) {
            try (Model m = Model.load(other);
                 Context ctx = m.createContext(ContextParams.builder().contextSize(256).build());
                 Sequence s = ctx.newSequence()) {
                assertTrue(fails(s, state).contains("another model"));
            }
        }
        assertTrue(otherModel.toFile().exists());
    }

    private static String fails(Sequence s, Path file) {
        return assertThrows(LlamaException.class, () -> s.load(file)).getMessage();
    }
}
