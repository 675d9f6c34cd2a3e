package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.hub.ModelCache;
import org.llamajava.hub.ModelReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pull REF}: downloads a GGUF into the models folder and prints its path. REF is an http(s)
 * URL, {@code hf:ORG/REPO/PATH/FILE.gguf}, or {@code ORG/REPO[:QUANT]} (the file chosen as
 * llama.cpp's {@code -hf} chooses it). A partial download resumes; a file with a known SHA-256 is
 * checked.
 */
@Command(name = "pull", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Download a GGUF model into the models folder; prints its path.",
                "REF: an http(s) URL, hf:ORG/REPO/PATH/FILE.gguf, or ORG/REPO[:QUANT] (as llama.cpp's -hf: by default "
                        + "Q4_K_M, else Q8_0, else the first GGUF). Interrupted downloads resume; SHA-256 is checked when "
                        + "the source gives one. The endpoint is $MODEL_ENDPOINT (or $HF_ENDPOINT), else "
                        + ModelCache.DEFAULT_ENDPOINT + "; $HF_TOKEN is sent for gated models.",
                "Example: llama-java pull hf:ggml-org/models/tinyllamas/stories260K.gguf"})
final class PullCommand extends CliCommand {
    @Parameters(arity = "0..1", paramLabel = "REF", description = "what to download")
    String ref;

    @Option(names = "--models-dir", paramLabel = "DIR", defaultValue = "${env:LLAMA_JAVA_MODELS}",
            description = "the models folder (default: ~/.llama-java/models; env: LLAMA_JAVA_MODELS)")
    Path modelsDir;

    @Option(names = {"-f", "--force"}, description = "download again even if the file is there")
    boolean force;

    @Override
    protected int run() {
        if (ref == null) {
            throw new UsageException("give the model to pull: a URL, hf:ORG/REPO/FILE.gguf or ORG/REPO[:QUANT]");
        }
        ModelReference r = ModelReference.parse(ref);
        if (r == null) {
            throw new UsageException("'" + ref + "' is not a URL, hf:ORG/REPO/FILE.gguf or ORG/REPO[:QUANT]");
        }
        Path file = ModelCache.fromEnvironment(modelsDir).pull(r, force, Progress.downloads(err));
        out.println(file);
        return 0;
    }
}
