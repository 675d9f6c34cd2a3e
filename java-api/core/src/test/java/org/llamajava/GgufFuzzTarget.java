package org.llamajava;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.llamajava.gguf.GgufException;
import org.llamajava.gguf.GgufFile;

/**
 * Jazzer fuzz target for GGUF loading: each input is written to a file, which is then read by
 * {@link GgufFile#read}, loaded vocab-only (and its vocabulary exercised), and loaded in full
 * (and a token decoded). A {@link GgufException} from {@link GgufFile#read}, or a
 * {@link LlamaException} from a load, is the expected answer to a bad file; any other exception is
 * a finding, and a native crash kills the JVM, leaving the input in the file named by
 * {@code -Dllama.fuzz.input} for {@code ci/fuzz.sh} to keep as a reproducer.
 *
 * <p>Run by {@code ci/fuzz.sh} (fixed budget) and {@link GgufFuzzSmokeTest} (CI); seeds and the
 * dictionary come from {@link GgufFuzzSeeds}.
 */
public final class GgufFuzzTarget {
    private static Path input;

    private GgufFuzzTarget() {}

    /** Called once by Jazzer before the first input. */
    public static void fuzzerInitialize() {
        input = Path.of(System.getProperty("llama.fuzz.input", "fuzz-input.gguf")).toAbsolutePath();
        Llama.init();
    }

    /** Called by Jazzer for every input. */
    public static void fuzzerTestOneInput(byte[] data) {
        try {
            Files.write(input, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run(input);
    }

    /** Everything a user could do with the file; package-private so regression tests can replay a file. */
    static void run(Path file) {
        try {
            GgufFile.read(file);
        } catch (GgufException e) {
            return; // Model.load reads the same directory first, so both loads would fail the same way
        }
        try (Model m = Model.load(file, ModelParams.builder().vocabOnly(true).useMmap(false).build())) {
            exerciseVocabulary(m.vocabulary());
        } catch (LlamaException e) {
            // a clear rejection is the expected outcome for most inputs
        }
        try (Model m = Model.load(file);
             Context ctx = m.createContext(ContextParams.builder().contextSize(32).batchSize(32).threads(1).build());
             Sequence s = ctx.newSequence();
             Sampler greedy = Sampler.greedy()) {
            int n = m.vocabulary().size();
            s.generate(new int[] {Math.min(1, n - 1)}, greedy, GenerateOptions.maxTokens(2));
        } catch (LlamaException e) {
            // rejected: fine
        }
    }

    private static void exerciseVocabulary(Vocabulary v) {
        int[] t = v.tokenize("Hello world, 123 <s> </s> <|endoftext|> ünï \t\n  x", true, true);
        v.detokenize(t, false, true);
        int n = Math.min(v.size(), 300);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
            v.tokenPiece(i);
            v.tokenText(i);
            v.tokenAttributes(i);
            v.isEndOfGeneration(i);
        }
        v.detokenize(all, true, false);
    }
}
