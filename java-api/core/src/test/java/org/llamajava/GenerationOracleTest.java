package org.llamajava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llamajava.gguf.LlamaModelWriter;
import org.llamajava.gguf.ModelShape;

/**
 * Greedy generation through the Java API equals llama.cpp's own {@code llama-simple}, built from
 * the same source, for the same model, prompt and token count.
 *
 * <p>llama-simple always runs 4 threads; on a 2-core machine ggml's spinning thread pool makes
 * that about a thousand times slower than 2 threads (32 tokens take ~17 s), so the cases are few.
 */
class GenerationOracleTest {

    @TempDir
    static Path tmp;

    @ParameterizedTest(name = "stories260K: \"{0}\" -n {1}")
    @CsvSource({"Once upon a time, 32", "Lily and Tom went to the park, 16"})
    void stories260kMatchesLlamaSimple(String prompt, int n) throws Exception {
        assertMatchesLlamaSimple(TestSupport.sharedModel("stories260K.gguf"), prompt, n);
    }

    @ParameterizedTest(name = "llama-2-tiny-random: \"{0}\" -n {1}")
    @CsvSource({"Hello world, 24"})
    void tinyRandomLlamaMatchesLlamaSimple(String prompt, int n) throws Exception {
        assertMatchesLlamaSimple(TestSupport.sharedModel("llama-2-tiny-random.gguf"), prompt, n);
    }

    @ParameterizedTest(name = "written model: \"{0}\" -n {1}")
    @CsvSource({"Once upon a time, 24"})
    void writtenModelMatchesLlamaSimple(String prompt, int n) throws Exception {
        Path model = tmp.resolve("oracle-tiny.gguf");
        if (!model.toFile().exists()) {
            new LlamaModelWriter(ModelShape.tiny(), TestSupport.tinyVocabulary()).seed(11).scale(4f).write(model);
        }
        assertMatchesLlamaSimple(model, prompt, n);
    }

    /**
     * llama-simple prints the prompt's pieces, then the continuation, then a newline; it stops
     * early (before printing) at an end-of-generation token.
     */
    private static void assertMatchesLlamaSimple(Path model, String prompt, int n) throws Exception {
        TestSupport.Run oracle = TestSupport.runTool("llama-simple", "-m", model.toString(), "-n",
                Integer.toString(n), prompt);
        assertEquals(0, oracle.exitCode(), "llama-simple failed: " + oracle.stderr());
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(512).build());
             Sampler greedy = Sampler.greedy()) {
            int[] promptTokens = m.vocabulary().tokenize(prompt, true, true);
            StringBuilder streamed = new StringBuilder();
            Completion c = ctx.generate(promptTokens, greedy, n, streamed::append);
            StringBuilder promptPieces = new StringBuilder();
            for (int t : promptTokens) {
                promptPieces.append(m.vocabulary().tokenPiece(t));
            }
            assertEquals(oracle.stdout(), promptPieces + c.text() + "\n");
            assertEquals(c.text(), streamed.toString(), "streamed pieces add up to the text");
            assertTrue(c.tokens().length > 0);
            if (c.finishReason() == FinishReason.MAX_TOKENS) {
                assertEquals(n, c.tokens().length);
            }
        }
    }
}
