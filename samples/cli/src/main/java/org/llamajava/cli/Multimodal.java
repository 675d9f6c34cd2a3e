package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.Model;
import org.llamajava.multimodal.Projector;
import org.llamajava.multimodal.ProjectorParams;
import picocli.CommandLine.Option;

/**
 * The multimodal options, with llama.cpp's names: {@code --mmproj FILE} (the model's projector)
 * and {@code --no-mmproj-offload} (keep the image encoder on the CPU).
 */
final class Multimodal {
    @Option(names = {"-mm", "--mmproj"}, paramLabel = "FILE", defaultValue = "${env:LLAMA_ARG_MMPROJ}",
            description = "the model's multimodal projector (mmproj GGUF), for images (env: LLAMA_ARG_MMPROJ)")
    Path mmproj;

    @Option(names = "--no-mmproj-offload", description = "run the projector's image encoder on the CPU")
    boolean noOffload;

    /** llama.cpp's default, accepted as its tools accept it. */
    @Option(names = "--mmproj-offload", hidden = true, description = "run the projector's image encoder on the GPU (the default)")
    boolean offload;

    /** The projector, loaded for {@code model} with {@code threads} (null: its default), or null without --mmproj. */
    Projector load(Model model, Integer threads) {
        if (mmproj == null) {
            if (noOffload) {
                throw new UsageException("--no-mmproj-offload needs --mmproj FILE");
            }
            return null;
        }
        ProjectorParams p = ProjectorParams.defaults().withGpu(!noOffload);
        return Projector.load(mmproj, model, threads == null ? p : p.withThreads(threads));
    }

    boolean given() {
        return mmproj != null;
    }
}
