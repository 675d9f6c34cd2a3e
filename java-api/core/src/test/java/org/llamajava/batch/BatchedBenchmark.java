package org.llamajava.batch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;

/**
 * The batching engine's throughput, run by {@code ci/bench-batched.sh} (not a test) beside
 * llama.cpp's {@code llama-batched-bench} with the same model, prompt length, generated length,
 * parallel sequences, batch size and threads.
 *
 * <p>{@code BatchedBenchmark MODEL PP TG PL THREADS BATCH REPS}: one engine with PL slots and a
 * context of {@code PL * (PP + TG)} tokens (batched-bench's {@code n_kv} for unshared prompts);
 * per repetition, PL requests with distinct random prompts of PP tokens (no shared prefix, so
 * nothing is reused from the slots' caches) that generate exactly TG tokens each (greedy, the
 * end-of-generation tokens biased away), all submitted at once. Prints
 * {@code RESULT <tokens> <ms>}: prompt plus generated tokens of all requests, and the wall time
 * from the first submit to the last completion (batched-bench's {@code T} and {@code S = tokens /
 * T}). One warm-up repetition is not printed.
 *
 * <p>The engine does more than batched-bench: it samples every token (batched-bench feeds random
 * tokens and never reads the logits), assembles text, and schedules; the ratio measures what that
 * costs.
 */
public final class BatchedBenchmark {
    private BatchedBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int pp = Integer.parseInt(args[1]);
        int tg = Integer.parseInt(args[2]);
        int pl = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        int batch = Integer.parseInt(args[5]);
        int reps = Integer.parseInt(args[6]);
        Random random = new Random(42);
        try (Model m = Model.load(model);
             BatchEngine engine = BatchEngine.start(m, EngineParams.builder().slots(pl).contextSize(pl * (pp + tg))
                     .batchSize(Math.max(batch, pl)).threads(threads).maxQueue(pl).build())) {
            int vocab = m.vocabulary().size();
            Sampler.Builder sampling = Sampler.builder();
            for (int t = 0; t < vocab; t++) {
                if (m.vocabulary().isEndOfGeneration(t)) {
                    sampling.logitBias(t, Float.NEGATIVE_INFINITY);
                }
            }
            sampling.greedy();
            for (int r = -1; r < reps; r++) {
                List<BatchHandle> handles = new ArrayList<>(pl);
                long start = System.nanoTime();
                for (int i = 0; i < pl; i++) {
                    int[] prompt = new int[pp];
                    for (int k = 0; k < pp; k++) {
                        prompt[k] = random.nextInt(vocab);
                    }
                    handles.add(engine.submit(new BatchRequest(prompt, sampling, GenerateOptions.maxTokens(tg))));
                }
                long tokens = 0;
                for (BatchHandle h : handles) {
                    var c = h.completion().get();
                    if (c.tokenCount() != tg) {
                        throw new IllegalStateException("a request generated " + c.tokenCount() + " tokens, not " + tg
                                + " (" + c.finishReason() + ")");
                    }
                    tokens += pp + tg;
                }
                long nanos = System.nanoTime() - start;
                if (r >= 0) {
                    System.out.printf(Locale.ROOT, "RESULT %d %.3f%n", tokens, nanos / 1e6);
                }
            }
        }
    }
}
