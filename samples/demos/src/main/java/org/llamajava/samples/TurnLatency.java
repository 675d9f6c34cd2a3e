package org.llamajava.samples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;

/**
 * Time to first token of a new chat turn after a long history: with the history in the KV cache
 * (only the new turn is evaluated) versus evaluating the whole history again. Prints the median
 * of several runs.
 *
 * <p>{@code java -cp samples/target/llama-java.jar org.llamajava.samples.TurnLatency MODEL [HISTORY_TOKENS] [RUNS]}
 */
public final class TurnLatency {
    private TurnLatency() {}

    public static void main(String[] args) {
        Path path = Path.of(args.length > 0 ? args[0] : "../shared/models/stories260K.gguf");
        int historyTokens = args.length > 1 ? Integer.parseInt(args[1]) : 1500;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        try (Model model = Model.load(path);
             Context ctx = model.createContext(ContextParams.builder().contextSize(historyTokens + 512).build());
             Sampler greedy = Sampler.greedy()) {
            int[] story = model.vocabulary().tokenize(
                    "Once upon a time, there was a little girl named Lily. She loved to play in the park. ", false, false);
            int[] history = new int[historyTokens];
            history[0] = model.vocabulary().bos();
            for (int i = 1; i < historyTokens; i++) {
                history[i] = story[i % story.length];
            }
            int[] turn = model.vocabulary().tokenize(" What happened next?", false, false);
            int[] full = Arrays.copyOf(history, history.length + turn.length);
            System.arraycopy(turn, 0, full, history.length, turn.length);

            List<Long> reuse = new ArrayList<>();
            List<Long> fresh = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                try (Sequence s = ctx.newSequence()) {
                    s.prompt(history); // the earlier turns, already in the cache
                    reuse.add(firstToken(s, full, greedy));
                }
                try (Sequence s = ctx.newSequence()) {
                    fresh.add(firstToken(s, full, greedy));
                }
            }
            long a = median(reuse);
            long b = median(fresh);
            System.out.printf("model %s, history %d tokens, new turn %d tokens, %d runs (median)%n",
                    path.getFileName(), historyTokens, turn.length, runs);
            System.out.printf("time to first token with KV reuse:  %8.2f ms%n", a / 1e6);
            System.out.printf("time to first token re-evaluating:  %8.2f ms%n", b / 1e6);
            System.out.printf("ratio: %.1f%%%n", 100.0 * a / b);
        }
    }

    private static long firstToken(Sequence s, int[] prompt, Sampler sampler) {
        long t0 = System.nanoTime();
        Completion c = s.generate(prompt, sampler, GenerateOptions.maxTokens(1));
        long t = System.nanoTime() - t0;
        if (c.tokens().length != 1) {
            throw new IllegalStateException("no first token");
        }
        return t;
    }

    private static long median(List<Long> xs) {
        List<Long> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
