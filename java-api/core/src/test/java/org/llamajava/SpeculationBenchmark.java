package org.llamajava;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Java side of {@code ci/bench-spec.sh}: greedy generation of N tokens after a prompt file,
 * plain or with n-gram lookup ({@link Speculation#ngram}), after an untimed warm-up. Prints
 * {@code RESULT tokens seconds drafted accepted} over the generation (prompt excluded), as
 * llama.cpp's llama-lookup reports its decode speed.
 *
 * <p>{@code java ... SpeculationBenchmark MODEL PROMPT_FILE N THREADS plain|ngram [DRAFT_MAX]}
 */
public final class SpeculationBenchmark {
    private SpeculationBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        String prompt = Files.readString(Path.of(args[1]));
        int n = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        boolean ngram = args[4].equals("ngram");
        int draftMax = args.length > 5 ? Integer.parseInt(args[5]) : 16;
        try (Model m = Model.load(model);
             Context ctx = m.createContext(ContextParams.builder().contextSize(4096).threads(threads).build());
             Speculation spec = ngram ? Speculation.ngram(SpeculationParams.builder().draftMax(draftMax).build()) : null;
             Sampler greedy = Sampler.greedy()) {
            int[] tokens = m.vocabulary().tokenize(prompt);
            GenerateOptions options = GenerateOptions.builder().maxTokens(n).speculation(spec).build();
            try (Sequence warm = ctx.newSequence()) {
                warm.generate(tokens, greedy, GenerateOptions.builder().maxTokens(16).speculation(spec).build());
            }
            try (Sequence seq = ctx.newSequence()) {
                Completion c = seq.generate(tokens, greedy, options);
                double seconds = c.timings().generationNanos() / 1e9;
                System.out.printf("RESULT %d %.6f %d %d%n", c.tokenCount(), seconds, c.draftedTokens(), c.acceptedTokens());
            }
        }
    }
}
