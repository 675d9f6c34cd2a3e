package org.llamajava;

/**
 * How to create a {@link Context}. Build with {@link #builder()}.
 *
 * @param contextSize   tokens the context holds (n_ctx); 0 takes the model's training length
 * @param batchSize     most tokens given to one native decode call (n_batch)
 * @param ubatchSize    physical batch size (n_ubatch), at most {@code batchSize}
 * @param threads       threads for generation (one token at a time)
 * @param threadsBatch  threads for prompt processing
 */
public record ContextParams(int contextSize, int batchSize, int ubatchSize, int threads, int threadsBatch) {

    /** Upper bound on any size parameter, to fail fast instead of attempting a huge allocation. */
    public static final int MAX_SIZE = 1 << 24;

    public ContextParams {
        check("contextSize", contextSize, 0);
        check("batchSize", batchSize, 1);
        check("ubatchSize", ubatchSize, 1);
        if (ubatchSize > batchSize) {
            throw new IllegalArgumentException("ubatchSize (" + ubatchSize + ") must not exceed batchSize (" + batchSize + ")");
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024]; got " + threads);
        }
        if (threadsBatch < 1 || threadsBatch > 1024) {
            throw new IllegalArgumentException("threadsBatch must be in [1, 1024]; got " + threadsBatch);
        }
    }

    private static void check(String name, int value, int min) {
        if (value < min || value > MAX_SIZE) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + MAX_SIZE + "]; got " + value);
        }
    }

    /** Defaults: 4096 tokens, batch 2048, ubatch 512, threads as llama.cpp picks them (up to 4). */
    public static ContextParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link ContextParams}. */
    public static final class Builder {
        private int contextSize = 4096;
        private int batchSize = 2048;
        private int ubatchSize = 512;
        private int threads = defaultThreads();
        private int threadsBatch = -1;

        private Builder() {}

        public Builder contextSize(int v) { this.contextSize = v; return this; }
        public Builder batchSize(int v) { this.batchSize = v; return this; }
        public Builder ubatchSize(int v) { this.ubatchSize = v; return this; }
        /** Threads for both generation and prompt processing, unless {@link #threadsBatch} is set. */
        public Builder threads(int v) { this.threads = v; return this; }
        public Builder threadsBatch(int v) { this.threadsBatch = v; return this; }

        public ContextParams build() {
            int ub = Math.min(ubatchSize, batchSize);
            return new ContextParams(contextSize, batchSize, ub, threads, threadsBatch < 0 ? threads : threadsBatch);
        }

        private static int defaultThreads() {
            return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        }
    }
}
