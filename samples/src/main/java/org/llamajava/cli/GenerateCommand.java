package org.llamajava.cli;

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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code generate -m MODEL -p PROMPT [sampling flags]}: prints only the continuation on stdout,
 * streamed as it is generated. With {@code --mmproj FILE --image PATH} the image goes before the
 * prompt (or at its media marker).
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

    @Mixin
    Multimodal multimodal;

    @Option(names = "--image", paramLabel = "PATH",
            description = "an image (with --mmproj): it goes before the prompt, or at its <__media__> marker")
    Path image;

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
        if (image != null && !multimodal.given()) {
            throw new UsageException("--image needs the model's projector: --mmproj FILE");
        }
        if (image != null) {
            return generateWithImage(file, text, layers);
        }
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

    /** The image goes where the prompt has the media marker, or before the prompt (as llama-mtmd-cli puts it). */
    private int generateWithImage(Path file, String text, int layers) {
        try (Model m = Progress.loadModel(file, gpu.modelParams().gpuLayers(layers), err);
             Projector projector = multimodal.load(m, context.threads());
             Context ctx = m.createContext(context.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = sampling.sampler(m)) {
            String marker = Projector.marker();
            String full = text.contains(marker) ? text : marker + text;
            Completion c = projector.generate(seq, full, List.of(Media.file(image)), sampler,
                    GenerateOptions.builder().maxTokens(sampling.maxTokens(32)).onText(piece -> {
                        out.print(piece);
                        out.flush();
                    }).build());
            out.println();
            err.printf("generated %d tokens (%s); the prompt held %d image tokens%n", c.tokens().length,
                    c.finishReason(), c.mediaTokens());
        }
        return 0;
    }
}
