package org.llamajava.cli;

import java.nio.file.Path;
import org.llamajava.hub.ModelCache;
import picocli.CommandLine.Option;

/**
 * {@code -m/--model MODEL} (environment default {@code LLAMA_ARG_MODEL}, as llama.cpp's tools).
 * MODEL is a path, a model's name in the models folder, or a reference that {@code pull}
 * understands ({@code hf:ORG/REPO/FILE.gguf}, {@code ORG/REPO[:QUANT]}, an http(s) URL), which is
 * downloaded into the models folder first if it is not there yet.
 */
final class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL", defaultValue = "${env:LLAMA_ARG_MODEL}",
            description = "model: a GGUF file, a name in the models folder, hf:ORG/REPO/FILE.gguf, ORG/REPO[:QUANT] "
                    + "or a URL (env: LLAMA_ARG_MODEL)")
    String model;

    @Option(names = "--models-dir", paramLabel = "DIR", defaultValue = "${env:LLAMA_JAVA_MODELS}",
            description = "the models folder (default: ~/.llama-java/models; env: LLAMA_JAVA_MODELS)")
    java.nio.file.Path modelsDir;

    /** Whether -m was given. */
    boolean given() {
        return model != null && !model.isEmpty();
    }

    /** The model file, downloading a reference if needed; a usage error when -m is missing. */
    Path path(CliCommand command) {
        if (!given()) {
            throw new UsageException("missing -m MODEL");
        }
        return ModelCache.fromEnvironment(modelsDir).locate(model, Progress.downloads(command.err));
    }
}
