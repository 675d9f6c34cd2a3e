package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.Model;
import org.llamajava.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code generate -m MODEL -p PROMPT [sampling flags]}: prints only the continuation on stdout,
 * streamed as it is generated.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Continue a prompt; prints only the continuation (--temp 0 is greedy).")
final class GenerateCommand extends CliCommand {
    @Mixin
    ModelOption model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "PROMPT", description = "the prompt (with \\n, \\t, \\xHH escapes)")
    String prompt;

    @Option(names = "--no-escape", description = "take the prompt as written, without escapes")
    boolean noEscape;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ContextOptions context;

    @Mixin
    GpuOption gpu;

    @Override
    protected int run() {
        if (!model.given()) {
            throw new UsageException("missing -m MODEL");
        }
        if (prompt == null) {
            throw new UsageException("missing -p PROMPT");
        }
        String text = noEscape ? prompt : Escapes.process(prompt);
        sampling.check();
        context.check();
        int layers = gpu.layers();
        Path file = model.path(this);
        try (Model m = Progress.loadModel(file, gpu.modelParams().gpuLayers(layers), err);
             Context ctx = m.createContext(context.contextParams(m));
             Sampler sampler = sampling.sampler(m)) {
            int[] tokens = m.vocabulary().tokenize(text, true, true);
            Completion c = ctx.generate(tokens, sampler, sampling.maxTokens(32), piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
            err.printf("generated %d tokens (%s)%n", c.tokens().length, c.finishReason());
        }
        return 0;
    }
}
