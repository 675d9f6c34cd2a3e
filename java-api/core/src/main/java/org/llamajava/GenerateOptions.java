package org.llamajava;

import java.util.List;
import java.util.function.Consumer;

/**
 * What to generate: limits, stop strings, callbacks and cancellation. Build with
 * {@link #builder()}.
 *
 * @param maxTokens   most tokens to generate
 * @param stop        strings that end the generation when they appear (never part of the text)
 * @param onText      receives the text as it is generated, in UTF-8-safe pieces; may be null
 * @param onToken     receives each sampled token (with probabilities if requested); may be null
 * @param logprobs    how many most-likely alternatives to report per token (0: none)
 * @param abortSignal cancels the generation from another thread; may be null
 * @param speculation drafts tokens that one decode verifies (same text, fewer decode calls);
 *     null for none. Honoured by {@link Sequence} (and what generates through it); the batching
 *     engine rejects it
 * @param onPromptProgress told how far the prompt's evaluation has come (see {@link PromptProgress}); may be null
 * @param postSamplingProbs whether {@link GeneratedToken}'s log-probabilities are those after the
 *     sampler chain (its filters, temperature, penalties: what the token was drawn from), with the
 *     {@code logprobs} most likely candidates the chain left, none of probability 0, as
 *     llama-server's {@code post_sampling_probs}; else those of the raw logits. Not with a grammar:
 *     a request with one gets the raw logits' probabilities
 */
public record GenerateOptions(int maxTokens, List<String> stop, Consumer<String> onText,
                              Consumer<GeneratedToken> onToken, int logprobs, AbortSignal abortSignal,
                              Speculation speculation, PromptProgress onPromptProgress, boolean postSamplingProbs) {

    /** Options with the raw logits' probabilities. */
    public GenerateOptions(int maxTokens, List<String> stop, Consumer<String> onText,
                           Consumer<GeneratedToken> onToken, int logprobs, AbortSignal abortSignal,
                           Speculation speculation, PromptProgress onPromptProgress) {
        this(maxTokens, stop, onText, onToken, logprobs, abortSignal, speculation, onPromptProgress, false);
    }

    /** Options without a prompt progress listener. */
    public GenerateOptions(int maxTokens, List<String> stop, Consumer<String> onText,
                           Consumer<GeneratedToken> onToken, int logprobs, AbortSignal abortSignal,
                           Speculation speculation) {
        this(maxTokens, stop, onText, onToken, logprobs, abortSignal, speculation, null);
    }

    /** Options without speculation. */
    public GenerateOptions(int maxTokens, List<String> stop, Consumer<String> onText,
                           Consumer<GeneratedToken> onToken, int logprobs, AbortSignal abortSignal) {
        this(maxTokens, stop, onText, onToken, logprobs, abortSignal, null, null);
    }

    public GenerateOptions {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0; got " + maxTokens);
        }
        if (logprobs < 0) {
            throw new IllegalArgumentException("logprobs must be >= 0; got " + logprobs);
        }
        stop = List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** {@code maxTokens} tokens, no stop strings, no callbacks. */
    public static GenerateOptions maxTokens(int maxTokens) {
        return builder().maxTokens(maxTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link GenerateOptions}; by default at most 256 tokens. */
    public static final class Builder {
        private int maxTokens = 256;
        private List<String> stop = List.of();
        private Consumer<String> onText;
        private Consumer<GeneratedToken> onToken;
        private int logprobs;
        private AbortSignal abortSignal;
        private Speculation speculation;
        private PromptProgress onPromptProgress;
        private boolean postSamplingProbs;

        private Builder() {}

        public Builder maxTokens(int v) { this.maxTokens = v; return this; }
        public Builder stop(String... v) { this.stop = List.of(v); return this; }
        public Builder stop(List<String> v) { this.stop = List.copyOf(v); return this; }
        public Builder onText(Consumer<String> v) { this.onText = v; return this; }
        public Builder onToken(Consumer<GeneratedToken> v) { this.onToken = v; return this; }
        public Builder logprobs(int v) { this.logprobs = v; return this; }
        public Builder abortSignal(AbortSignal v) { this.abortSignal = v; return this; }
        /** Speculative decoding with {@code v} (null: none); see {@link Speculation}. */
        public Builder speculation(Speculation v) { this.speculation = v; return this; }
        /** Told how far the prompt's evaluation has come (null: not told); see {@link PromptProgress}. */
        public Builder onPromptProgress(PromptProgress v) { this.onPromptProgress = v; return this; }
        /** The probabilities after the sampler chain (see {@link GenerateOptions#postSamplingProbs()}). */
        public Builder postSamplingProbs(boolean v) { this.postSamplingProbs = v; return this; }

        public GenerateOptions build() {
            return new GenerateOptions(maxTokens, stop, onText, onToken, logprobs, abortSignal, speculation,
                    onPromptProgress, postSamplingProbs);
        }
    }
}
