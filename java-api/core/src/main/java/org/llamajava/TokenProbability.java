package org.llamajava;

/**
 * A token with its log-probability under the model (softmax of the raw logits, before any
 * sampler changes them).
 */
public record TokenProbability(int token, float logprob) {
    /** The probability, {@code exp(logprob)}. */
    public double probability() {
        return Math.exp(logprob);
    }
}
