package org.llamajava.grammar;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;

/**
 * Grammar-constrained generation speed through llama-java, run by {@code ci/bench-grammar.sh}
 * (not a test) beside {@code llama-completion --json-schema} with the same model, prompt, sampler
 * chain (top-k 40, top-p 0.95, min-p 0.05, temperature, seeded dist: llama-completion's
 * {@code --samplers top_k;top_p;min_p;temperature}), seed and threads.
 *
 * <p>{@code GrammarBenchmark MODEL PROMPT SCHEMA_FILE|none N SEED THREADS TEMP REPS}: one warm-up,
 * then REPS generations, each in a fresh sequence with a fresh sampler (made before the clock
 * starts, as llama-completion makes its sampler before generating), printing
 * {@code RESULT <generated tokens> <generation ms>} per generation: the time from the first
 * sampled token to the last, as llama-completion's perf counters time sampling plus evaluation.
 */
public final class GrammarBenchmark {
    private GrammarBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        String prompt = args[1];
        Grammar g = args[2].equals("none") ? null : JsonSchema.of(Files.readString(Path.of(args[2]))).toGrammar();
        int n = Integer.parseInt(args[3]);
        int seed = Integer.parseInt(args[4]);
        int threads = Integer.parseInt(args[5]);
        float temp = Float.parseFloat(args[6]);
        int reps = Integer.parseInt(args[7]);
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(Math.max(512, n + 64)).threads(threads)
                     .build())) {
            int[] tokens = m.vocabulary().tokenize(prompt, true, true);
            for (int r = -1; r < reps; r++) {
                Sampler.Builder b = Sampler.builder().topK(40).topP(0.95f).minP(0.05f).temperature(temp).dist(seed);
                if (g != null) {
                    b.grammar(g);
                }
                try (Sequence s = ctx.newSequence(); Sampler sampler = b.build(m)) {
                    Completion c = s.generate(tokens, sampler, GenerateOptions.maxTokens(n));
                    if (r < 0 && Boolean.getBoolean("bench.print")) { // the text, to compare with llama-completion's
                        System.out.print(c.text());
                        return;
                    }
                    if (r >= 0) {
                        System.out.printf(Locale.ROOT, "RESULT %d %.3f%n", c.timings().generatedTokens(),
                                c.timings().generationNanos() / 1e6);
                    }
                }
            }
        }
    }
}
