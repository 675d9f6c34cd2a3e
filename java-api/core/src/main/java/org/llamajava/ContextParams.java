package org.llamajava;


/**
 * How to create a {@link Context}. Build with {@link #builder()}.
 *
 * @param contextSize    tokens the context holds (n_ctx), shared by its sequences; 0 takes the
 *                       model's training length
 * @param batchSize      most tokens given to one native decode call (n_batch)
 * @param ubatchSize     physical batch size (n_ubatch), at most {@code batchSize}
 * @param sequences      how many {@link Sequence}s the context can hold at once (n_seq_max)
 * @param threads        threads for generation (one token at a time)
 * @param threadsBatch   threads for prompt processing
 * @param keyType        data type of the KV cache's keys
 * @param valueType      data type of the KV cache's values (quantized values need flash attention)
 * @param flashAttention whether to use flash attention
 * @param overflow       what a sequence does when it would no longer fit
 * @param pooling        null for a context that generates; otherwise the context computes
 *                       embeddings pooled this way ({@link Pooling#MODEL}: as the GGUF says).
 *                       {@link org.llamajava.embed.Embedder} sets it; few need it directly
 */
public record ContextParams(int contextSize, int batchSize, int ubatchSize, int sequences, int threads,
                            int threadsBatch, KvCacheType keyType, KvCacheType valueType,
                            FlashAttention flashAttention, OverflowPolicy overflow, Pooling pooling) {

    /** Upper bound on any size parameter, to fail fast instead of attempting a huge allocation. */
    public static final int MAX_SIZE = 1 << 24;
    /** Most sequences one context can hold. */
    public static final int MAX_SEQUENCES = 256;

    public ContextParams {
        check("contextSize", contextSize, 0, MAX_SIZE);
        check("batchSize", batchSize, 1, MAX_SIZE);
        check("ubatchSize", ubatchSize, 1, MAX_SIZE);
        check("sequences", sequences, 1, MAX_SEQUENCES);
        check("threads", threads, 1, 1024);
        check("threadsBatch", threadsBatch, 1, 1024);
        if (sequences > batchSize) {
            // llama.cpp reserves an output row per sequence in every batch and asserts it fits
            throw new IllegalArgumentException("sequences (" + sequences + ") must not exceed batchSize (" + batchSize
                    + "): every batch reserves an output for each sequence");
        }
        if (ubatchSize > batchSize) {
            throw new IllegalArgumentException("ubatchSize (" + ubatchSize + ") must not exceed batchSize (" + batchSize + ")");
        }
        if (keyType == null || valueType == null || flashAttention == null || overflow == null) {
            throw new IllegalArgumentException("keyType, valueType, flashAttention and overflow must not be null");
        }
        if (valueType != KvCacheType.F16 && flashAttention == FlashAttention.DISABLED) {
            throw new IllegalArgumentException("a quantized V cache (" + valueType + ") needs flash attention");
        }
    }

    private static void check(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "]; got " + value);
        }
    }

    /** Defaults: 4096 tokens, batch 2048, ubatch 512, one sequence, threads up to 4 (no more than cores). */
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
        private int sequences = 1;
        private int threads = defaultThreads();
        private int threadsBatch = -1;
        private KvCacheType keyType = KvCacheType.F16;
        private KvCacheType valueType = KvCacheType.F16;
        private FlashAttention flashAttention = FlashAttention.AUTO;
        private OverflowPolicy overflow = OverflowPolicy.fail();
        private Pooling pooling;

        private Builder() {}

        public Builder contextSize(int v) { this.contextSize = v; return this; }
        public Builder batchSize(int v) { this.batchSize = v; return this; }
        public Builder ubatchSize(int v) { this.ubatchSize = v; return this; }
        public Builder sequences(int v) { this.sequences = v; return this; }
        /** Threads for both generation and prompt processing, unless {@link #threadsBatch} is set. */
        public Builder threads(int v) { this.threads = v; return this; }
        public Builder threadsBatch(int v) { this.threadsBatch = v; return this; }
        /** Type of both the key and the value cache. */
        public Builder kvCacheType(KvCacheType v) { this.keyType = v; this.valueType = v; return this; }
        public Builder keyType(KvCacheType v) { this.keyType = v; return this; }
        public Builder valueType(KvCacheType v) { this.valueType = v; return this; }
        public Builder flashAttention(FlashAttention v) { this.flashAttention = v; return this; }
        public Builder overflow(OverflowPolicy v) { this.overflow = v; return this; }
        /** Compute embeddings pooled this way (null: generate, the default). */
        public Builder pooling(Pooling v) { this.pooling = v; return this; }

        public ContextParams build() {
            int ub = Math.min(ubatchSize, batchSize);
            return new ContextParams(contextSize, batchSize, ub, sequences, threads,
                    threadsBatch < 0 ? threads : threadsBatch, keyType, valueType, flashAttention, overflow, pooling);
        }

        private static int defaultThreads() {
            return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        }
    }
}
