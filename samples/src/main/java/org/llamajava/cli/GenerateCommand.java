package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.ContextParams;
import org.llamajava.Model;
import org.llamajava.Sampler;

/**
 * {@code generate -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] [-t THREADS] [-c CTX]}:
 * prints only the continuation on stdout, streamed as it is generated.
 */
final class GenerateCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(new String[][] {{"-m", "--model"}, {"-p", "--prompt"}, {"-n", "--n-predict"}, {"--temp"},
                {"--seed", "-s"}, {"-t", "--threads"}, {"-c", "--ctx-size"}, {"--top-k"}, {"--top-p"}, {"--min-p"},
                {"-b", "--batch-size"}}, "--no-escape");
        Path model = Path.of(args.require("-m", "MODEL"));
        String prompt = args.require("-p", "PROMPT");
        if (!args.has("--no-escape")) {
            prompt = Escapes.process(prompt);
        }
        int n = args.getInt("-n", 32);
        if (n < 0) {
            throw new Args.UsageException("-n must be >= 0");
        }
        float temp = args.getFloat("--temp", 0.8f);
        int seed = (int) args.getLong("--seed", Sampler.RANDOM_SEED & 0xFFFFFFFFL);
        ContextParams.Builder cp = ContextParams.builder();
        if (args.get("-t") != null) {
            cp.threads(args.getInt("-t", 1));
        }
        if (args.get("-b") != null) {
            int b = args.getInt("-b", 2048);
            cp.batchSize(b).ubatchSize(Math.min(512, b));
        }
        // llama.cpp's default order: top-k, top-p, min-p, temperature, then the seeded draw
        Sampler.Builder sb = Sampler.builder().topK(args.getInt("--top-k", 40))
                .topP(args.getFloat("--top-p", 0.95f)).minP(args.getFloat("--min-p", 0.05f))
                .temperature(temp).dist(seed);
        int ctxSize = args.getInt("-c", -1);
        try (Model m = Model.load(model);
             // like llama.cpp's tools: 4096 tokens, but no more than the model was trained for
             Context ctx = m.createContext(cp.contextSize(ctxSize >= 0 ? ctxSize
                     : Math.min(4096, m.trainingContextLength())).build());
             Sampler sampler = sb.build()) {
            int[] tokens = m.vocabulary().tokenize(prompt, true, true);
            Completion c = ctx.generate(tokens, sampler, n, piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            err.printf("generated %d tokens (%s)%n", c.tokens().length, c.finishReason());
        }
        return 0;
    }

    @Override
    public String usage() {
        return "-m MODEL -p PROMPT [-n N] [--temp T] [--seed S] [--top-k K] [--top-p P] [--min-p P] [-t THREADS] [-c CTX] [--no-escape]";
    }
}
