package org.llamajava;

/**
 * How a {@link Speculation} drafts: how many tokens at most and at least, and (for a draft
 * model) how confident each drafted token must be. Build with {@link #builder()}.
 *
 * @param draftMax most tokens drafted per step (llama.cpp's {@code --draft-max}); the target
 *     verifies them, plus the token before them, in one {@code llama_decode}
 * @param draftMin fewest tokens worth verifying (llama.cpp's {@code --draft-min}): a shorter
 *     draft is dropped and the step decodes one token as usual
 * @param pMin a draft model stops drafting after a token whose probability is below this
 *     (llama.cpp's {@code --draft-p-min}); n-gram lookup ignores it
 * @param ngramMin smallest n-gram n-gram lookup matches (llama.cpp's {@code LLAMA_NGRAM_MIN}, 1)
 * @param ngramMax largest n-gram n-gram lookup matches, at most 4 (llama.cpp's {@code LLAMA_NGRAM_MAX})
 * @param draftContextSize tokens the draft model's context holds; 0 takes the target context's size
 */
public record SpeculationParams(int draftMax, int draftMin, float pMin, int ngramMin, int ngramMax,
                                int draftContextSize) {

    /** Largest n-gram size the lookup supports (llama.cpp's LLAMA_NGRAM_MAX). */
    public static final int NGRAM_MAX = 4;

    public SpeculationParams {
        if (draftMax < 1) {
            throw new IllegalArgumentException("draftMax must be >= 1; got " + draftMax);
        }
        if (draftMin < 0 || draftMin > draftMax) {
            throw new IllegalArgumentException("draftMin must be in [0, draftMax=" + draftMax + "]; got " + draftMin);
        }
        if (!(pMin >= 0 && pMin <= 1)) {
            throw new IllegalArgumentException("pMin must be in [0, 1]; got " + pMin);
        }
        if (ngramMin < 1 || ngramMax > NGRAM_MAX || ngramMin > ngramMax) {
            throw new IllegalArgumentException("n-gram sizes must satisfy 1 <= ngramMin <= ngramMax <= " + NGRAM_MAX
                    + "; got " + ngramMin + ".." + ngramMax);
        }
        if (draftContextSize < 0) {
            throw new IllegalArgumentException("draftContextSize must be >= 0; got " + draftContextSize);
        }
    }

    /** The defaults: up to 16 drafted tokens, no minimum, pMin 0.75, n-grams of 1 to 4 tokens. */
    public static SpeculationParams defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link SpeculationParams}. */
    public static final class Builder {
        private int draftMax = 16;
        private int draftMin;
        private float pMin = 0.75f;
        private int ngramMin = 1;
        private int ngramMax = NGRAM_MAX;
        private int draftContextSize;

        private Builder() {}

        public Builder draftMax(int v) { this.draftMax = v; return this; }
        public Builder draftMin(int v) { this.draftMin = v; return this; }
        public Builder pMin(float v) { this.pMin = v; return this; }
        public Builder ngramMin(int v) { this.ngramMin = v; return this; }
        public Builder ngramMax(int v) { this.ngramMax = v; return this; }
        public Builder draftContextSize(int v) { this.draftContextSize = v; return this; }

        public SpeculationParams build() {
            return new SpeculationParams(draftMax, draftMin, pMin, ngramMin, ngramMax, draftContextSize);
        }
    }
}
