package org.llamajava.multimodal;

/**
 * How a {@link Projector} is loaded.
 *
 * @param gpu     run the vision/audio encoder on the GPU when the build has one (mtmd's
 *                {@code use_gpu}); false keeps it on the CPU
 * @param threads CPU threads for the encoder (at least 1)
 * @param warmup  run one encode pass at load, so that the first image is not slower (mtmd's
 *                {@code warmup}); tests and short-lived tools may turn it off
 */
public record ProjectorParams(boolean gpu, int threads, boolean warmup) {
    /** Checks the values. */
    public ProjectorParams {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1; got " + threads);
        }
    }

    /** GPU when available, as many threads as the machine has cores (up to 8), warm-up on. */
    public static ProjectorParams defaults() {
        return new ProjectorParams(true, Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors())), true);
    }

    /** These parameters with the encoder on the GPU or not. */
    public ProjectorParams withGpu(boolean gpu) {
        return new ProjectorParams(gpu, threads, warmup);
    }

    /** These parameters with {@code threads} encoder threads. */
    public ProjectorParams withThreads(int threads) {
        return new ProjectorParams(gpu, threads, warmup);
    }

    /** These parameters with the warm-up pass on or off. */
    public ProjectorParams withWarmup(boolean warmup) {
        return new ProjectorParams(gpu, threads, warmup);
    }
}
