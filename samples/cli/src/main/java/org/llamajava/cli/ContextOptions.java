package org.llamajava.cli;

import org.llamajava.ContextParams;
import org.llamajava.Model;
import picocli.CommandLine.Option;

/**
 * {@code -c/--ctx-size}, {@code -t/--threads} and {@code -b/--batch-size}, with llama.cpp's
 * environment defaults ({@code LLAMA_ARG_CTX_SIZE}, {@code LLAMA_ARG_THREADS},
 * {@code LLAMA_ARG_BATCH}). Unset values are null: each command has its own defaults.
 */
final class ContextOptions {
    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_CTX_SIZE}",
            description = "context size in tokens (default: 4096, at most the model's training context; "
                    + "env: LLAMA_ARG_CTX_SIZE)")
    Integer contextSize;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_THREADS}",
            description = "threads for generation (env: LLAMA_ARG_THREADS)")
    Integer threads;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "${env:LLAMA_ARG_BATCH}",
            description = "logical batch size (default: 2048; env: LLAMA_ARG_BATCH)")
    Integer batchSize;

    /** {@code -t}, checked; null when not given. */
    Integer threads() {
        if (threads != null && threads < 1) {
            throw new UsageException("-t must be >= 1");
        }
        return threads;
    }

    /** {@code -c}, checked; {@code def} when not given. */
    int contextSize(int def) {
        if (contextSize == null) {
            return def;
        }
        if (contextSize < 0) {
            throw new UsageException("-c must be >= 0");
        }
        return contextSize;
    }

    /** {@code -b}, checked; {@code def} when not given. */
    int batchSize(int def) {
        if (batchSize == null) {
            return def;
        }
        if (batchSize < 1) {
            throw new UsageException("-b must be >= 1");
        }
        return batchSize;
    }

    /** Checks every value now, before a model is loaded. */
    void check() {
        threads();
        contextSize(0);
        batchSize(1);
    }

    /**
     * The context parameters for this model: {@code -c} if given, else like llama.cpp's tools
     * 4096 tokens, but no more than the model was trained for.
     */
    ContextParams contextParams(Model model) {
        ContextParams.Builder cp = ContextParams.builder();
        if (threads() != null) {
            cp.threads(threads);
        }
        if (batchSize != null) {
            int b = batchSize(2048);
            cp.batchSize(b).ubatchSize(Math.min(512, b));
        }
        return cp.contextSize(contextSize != null ? contextSize(0) : Math.min(4096, model.trainingContextLength()))
                .build();
    }
}
