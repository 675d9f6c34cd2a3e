package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.Model;
import org.llamajava.Sampler;

/**
 * {@code generate -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] [-t THREADS] [-c CTX]}:
 * prints only the continuation on stdout, streamed as it is generated.
 */
final class GenerateCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(SamplingFlags.with(new String[] {"-m", "--model"}, new String[] {"-p", "--prompt"}),
                "--no-escape");
        Path model = Path.of(args.require("-m", "MODEL"));
        String prompt = args.require("-p", "PROMPT");
        if (!args.has("--no-escape")) {
            prompt = Escapes.process(prompt);
        }
        SamplingFlags flags = SamplingFlags.read(args, 32);
        try (Model m = Model.load(model, flags.modelParams().build());
             Context ctx = m.createContext(flags.contextParams(m));
             Sampler sampler = flags.sampler(m)) {
            int[] tokens = m.vocabulary().tokenize(prompt, true, true);
            Completion c = ctx.generate(tokens, sampler, flags.maxTokens(), piece -> {
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
        return "-m MODEL -p PROMPT " + SamplingFlags.USAGE + " [--no-escape]";
    }
}
