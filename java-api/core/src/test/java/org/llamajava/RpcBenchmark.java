package org.llamajava;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Prompt processing and generation speed with the model's layers local or on an RPC server:
 * {@code java ... RpcBenchmark MODEL local|HOST:PORT PP TG REPS THREADS}. Each repetition
 * evaluates PP random tokens (as llama-bench's pp test) and then generates TG greedy tokens in a
 * fresh sequence, after one untimed warm-up; prints {@code RESULT pp_tps tg_tps} (medians), the
 * figures llama-bench reports as pp and tg. {@code -Dbench.rpcGuard=false} turns the RPC guard
 * off ({@link ModelParams#rpcTimeout()} zero), to measure what its worker thread costs.
 */
public final class RpcBenchmark {
    private RpcBenchmark() {}

    public static void main(String[] args) {
        Path model = Path.of(args[0]);
        boolean local = args[1].equals("local");
        int pp = Integer.parseInt(args[2]);
        int tg = Integer.parseInt(args[3]);
        int reps = Integer.parseInt(args[4]);
        int threads = Integer.parseInt(args[5]);
        ModelParams.Builder params = ModelParams.builder();
        if (!local) {
            params.rpcServers(args[1]);
            // -Dbench.rpcGuard=false: calls on this thread, as llama.cpp's tools make them (no worker hop)
            if (!Boolean.parseBoolean(System.getProperty("bench.rpcGuard", "true"))) {
                params.rpcTimeout(java.time.Duration.ZERO);
            }
        }
        try (Model m = Model.load(model, params.build());
             Context ctx = m.createContext(ContextParams.builder().contextSize(2 * (pp + tg + 16)).sequences(2).threads(threads).build());
             Sampler greedy = Sampler.greedy()) {
            SplittableRandom r = new SplittableRandom(1);
            int[] prompt = new int[pp];
            for (int i = 0; i < pp; i++) {
                prompt[i] = 3 + r.nextInt(m.vocabulary().size() - 3);
            }
            double[] ppTps = new double[reps];
            double[] tgTps = new double[reps];
            for (int i = -1; i < reps; i++) {
                try (Sequence s = ctx.newSequence()) {
                    long t0 = System.nanoTime();
                    s.append(prompt);
                    // llama_decode may return before a remote device has finished (llama-bench waits too)
                    org.llamajava.bindings.global.llama.llama_synchronize(ctx.handle());
                    long t1 = System.nanoTime();
                    try (Sequence g = ctx.newSequence()) {
                        Completion c = g.generate(new int[] {m.vocabulary().bos()}, greedy,
                                GenerateOptions.builder().maxTokens(tg).build());
                        if (i >= 0) {
                            ppTps[i] = pp * 1e9 / (t1 - t0);
                            tgTps[i] = c.tokenCount() * 1e9 / c.timings().generationNanos();
                        }
                    }
                }
            }
            Arrays.sort(ppTps);
            Arrays.sort(tgTps);
            System.out.printf("RESULT %.2f %.2f%n", ppTps[reps / 2], tgTps[reps / 2]);
        }
    }
}
