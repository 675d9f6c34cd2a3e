package org.llamajava.embed;

import org.llamajava.ContextParams;
import org.llamajava.Pooling;

/**
 * How to create an {@link Embedder} or a {@link Reranker}. Build with {@link #builder()}.
 *
 * @param pooling       how token vectors become one ({@link Pooling#MODEL}: as the GGUF says; a
 *                      model whose GGUF names no pooling, e.g. a generative model, gets
 *                      {@link Pooling#LAST})
 * @param normalization how pooled vectors are scaled ({@link Normalization#L2} by default, as
 *                      {@code llama-embedding} does); rerankers ignore it and return raw scores
 * @param contextSize   most tokens of one input (and of one batch); 0 takes the model's training
 *                      length
 * @param maxSequences  most inputs in one batch (one sequence id each; at most 256; the largest
 *                      divisor of the context size not above it is used)
 * @param threads       CPU threads
 * @param truncation    what happens to an input longer than {@code contextSize}
 * @param prefix        text put before every input (e.g. {@code "query: "} for models trained
 *                      with one), or "" for none
 */
public record EmbedderParams(Pooling pooling, Normalization normalization, int contextSize, int maxSequences,
                             int threads, Truncation truncation, String prefix) {

    public EmbedderParams {
        if (pooling == null || normalization == null || truncation == null || prefix == null) {
            throw new IllegalArgumentException("pooling, normalization, truncation and prefix must not be null");
        }
        if (contextSize < 0 || contextSize > ContextParams.MAX_SIZE) {
            throw new IllegalArgumentException("contextSize must be in [0, " + ContextParams.MAX_SIZE + "]; got "
                    + contextSize);
        }
        if (maxSequences < 1 || maxSequences > ContextParams.MAX_SEQUENCES) {
            throw new IllegalArgumentException("maxSequences must be in [1, " + ContextParams.MAX_SEQUENCES + "]; got "
                    + maxSequences);
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024]; got " + threads);
        }
    }

    /** The defaults: the model's pooling, L2, the training context, 256 inputs a batch, failing on long inputs. */
    public static EmbedderParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link EmbedderParams}. */
    public static final class Builder {
        private Pooling pooling = Pooling.MODEL;
        private Normalization normalization = Normalization.L2;
        private int contextSize;
        private int maxSequences = ContextParams.MAX_SEQUENCES;
        private int threads = ContextParams.defaults().threads();
        private Truncation truncation = Truncation.FAIL;
        private String prefix = "";

        private Builder() {}

        public Builder pooling(Pooling v) { this.pooling = v; return this; }
        public Builder normalization(Normalization v) { this.normalization = v; return this; }
        public Builder contextSize(int v) { this.contextSize = v; return this; }
        public Builder maxSequences(int v) { this.maxSequences = v; return this; }
        public Builder threads(int v) { this.threads = v; return this; }
        public Builder truncation(Truncation v) { this.truncation = v; return this; }
        public Builder prefix(String v) { this.prefix = v; return this; }

        public EmbedderParams build() {
            return new EmbedderParams(pooling, normalization, contextSize, maxSequences, threads, truncation, prefix);
        }
    }
}
