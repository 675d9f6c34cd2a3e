package org.llamajava.cli;

import org.llamajava.hub.ModelCache;
import java.nio.file.Path;
import java.util.List;
import org.llamajava.Completion;
import org.llamajava.Context;
import org.llamajava.GenerateOptions;
import org.llamajava.Model;
import org.llamajava.Sampler;
import org.llamajava.Sequence;
import org.llamajava.multimodal.Media;
import org.llamajava.multimodal.Projector;
import org.llamajava.Speculation;
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

    @Mixin
    SpeculativeOptions spec;

    @Mixin
    AdapterOptions adapters;

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
        adapters.check();
        boolean speculative = spec.enabled();
        int layers = gpu.layers();
        Path file = model.path(this);
        if (image != null && !multimodal.given()) {
            throw new UsageException("--image needs the model's projector: --mmproj FILE");
        }
        if (image != null && speculative) {
            throw new UsageException("--image does not combine with speculative decoding (-md, --lookup)");
        }
        if (image != null) {
            return generateWithImage(file, text, layers);
        }
        Path draftFile = spec.draftModel == null ? null : ModelCache.fromEnvironment(model.modelsDir).locate(spec.draftModel, Progress.downloads(err));
        try (Model m = Progress.loadModel(file, gpu.modelParams().gpuLayers(layers), err);
             // the draft goes where the target goes, without the target's tensor overrides (their patterns
             // are the target's)
             Model draft = draftFile == null ? null
                     : Progress.loadModel(draftFile, gpu.rpc.apply(org.llamajava.ModelParams.builder().gpuLayers(layers))
                             .extraBufferTypes(gpu.extraBufferTypes()), err);
             Speculation speculation = !speculative ? null : draft != null
                     ? Speculation.draftModel(draft, spec.params()) : Speculation.ngram(spec.params());
             Context ctx = m.createContext(context.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = sampling.sampler(m)) {
            applyAdapters(m, ctx);
            int[] tokens = m.vocabulary().tokenize(text, true, true);
            Completion c = seq.generate(tokens, sampler, GenerateOptions.builder().maxTokens(sampling.maxTokens(32))
                    .speculation(speculation).onText(piece -> {
                        out.print(piece);
                        out.flush();
                    }).build());
            out.println();
            err.printf("generated %d tokens (%s)%s%n", c.tokens().length, c.finishReason(),
                    speculative ? "; " + SpeculativeOptions.report(c) : "");
        } catch (IllegalArgumentException e) {
            if (speculative && e.getMessage() != null && e.getMessage().contains("vocabulary")) {
                throw new UsageException(e.getMessage());
            }
            throw e;
        }
        return 0;
    }

    /** {@code --lora}, {@code --control-vector} and the like: loaded for the model, applied to its context. */
    private void applyAdapters(Model m, Context ctx) {
        AdapterOptions.Loaded loaded = adapters.load(m);
        loaded.accept(ctx);
        if (loaded.describe() != null) {
            err.println("applied " + loaded.describe());
        }
    }

    /** The image goes where the prompt has the media marker, or before the prompt (as llama-mtmd-cli puts it). */
    private int generateWithImage(Path file, String text, int layers) {
        try (Model m = Progress.loadModel(file, gpu.modelParams().gpuLayers(layers), err);
             Projector projector = multimodal.load(m, context.threads());
             Context ctx = m.createContext(context.contextParams(m));
             Sequence seq = ctx.newSequence();
             Sampler sampler = sampling.sampler(m)) {
            applyAdapters(m, ctx);
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
