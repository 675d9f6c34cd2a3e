package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.Model;
import org.llamajava.multimodal.Projector;
import org.llamajava.multimodal.ProjectorParams;

/**
 * The multimodal flags, with llama.cpp's names: {@code --mmproj FILE} (the model's projector) and
 * {@code --no-mmproj-offload} (keep the image encoder on the CPU); {@code -t} sets its threads too.
 */
final class Multimodal {
    static final String USAGE = "[--mmproj FILE [--no-mmproj-offload]]";

    private Multimodal() {}

    /** The projector named by {@code --mmproj}, loaded for {@code model}, or null without the flag. */
    static Projector load(Args args, Model model) {
        String file = args.get("--mmproj");
        if (file == null) {
            if (args.has("--no-mmproj-offload")) {
                throw new Args.UsageException("--no-mmproj-offload needs --mmproj FILE");
            }
            return null;
        }
        ProjectorParams p = ProjectorParams.defaults().withGpu(!args.has("--no-mmproj-offload"));
        int threads = args.getInt("-t", p.threads());
        if (threads < 1) {
            throw new Args.UsageException("-t must be at least 1");
        }
        return Projector.load(Path.of(file), model, p.withThreads(threads));
    }
}
