package org.llamajava.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.Model;
import org.llamajava.GenerateOptions;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.multimodal.Media;
import org.llamajava.multimodal.Projector;

/**
 * {@code generate -m MODEL -p PROMPT [-n N] [--temp T] [--seed S] [-t THREADS] [-c CTX]}:
 * prints only the continuation on stdout, streamed as it is generated. With {@code --mmproj FILE
 * --image PATH} the image goes before the prompt (or where it has the media marker).
 */
final class GenerateCommand implements Command {
    @Override
    public int run(Args args, PrintStream out, PrintStream err) {
        args.parse(SamplingFlags.with(new String[] {"-m", "--model"}, new String[] {"-p", "--prompt"},
                new String[] {"--mmproj"}, new String[] {"--image", "--audio"}), "--no-escape", "--no-mmproj-offload");
        Path model = Path.of(args.require("-m", "MODEL"));
        String prompt = args.require("-p", "PROMPT");
        if (!args.has("--no-escape")) {
            prompt = Escapes.process(prompt);
        }
        SamplingFlags flags = SamplingFlags.read(args, 32);
        String media = args.get("--image");
        if (media != null && args.get("--mmproj") == null) {
            throw new Args.UsageException("--image needs the model's projector: --mmproj FILE");
        }
        if (media != null) {
            return generateWithMedia(args, model, prompt, Path.of(media), flags, out, err);
        }
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

    /**
     * {@code --mmproj FILE --image PATH}: the image goes where the prompt has the media marker, or
     * before the prompt (as llama-mtmd-cli puts it) when it has none.
     */
    private static int generateWithMedia(Args args, Path model, String prompt, Path media, SamplingFlags flags,
                                         PrintStream out, PrintStream err) {
        try (Model m = Model.load(model, flags.modelParams().build());
             Projector projector = Multimodal.load(args, m);
             Context ctx = m.createContext(flags.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = flags.sampler(m)) {
            String marker = Projector.marker();
            String full = prompt.contains(marker) ? prompt : marker + prompt;
            Completion c = projector.generate(seq, full, List.of(Media.file(media)), sampler,
                    GenerateOptions.builder().maxTokens(flags.maxTokens()).onText(piece -> {
                        out.print(piece);
                        out.flush();
                    }).build());
            out.println();
            err.printf("generated %d tokens (%s); the prompt held %d image tokens%n", c.tokens().length,
                    c.finishReason(), c.mediaTokens());
        }
        return 0;
    }

    @Override
    public String usage() {
        return "-m MODEL -p PROMPT " + SamplingFlags.USAGE + " [--no-escape] [--mmproj FILE --image PATH"
                + " [--no-mmproj-offload]]";
    }
}
