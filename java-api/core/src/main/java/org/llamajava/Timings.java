package org.llamajava;

/**
 * How long a generation took.
 *
 * @param promptTokens     prompt tokens evaluated (not counting those reused from the cache)
 * @param promptNanos      time spent evaluating them
 * @param generatedTokens  tokens sampled
 * @param generationNanos  time spent sampling and evaluating them
 */
public record Timings(int promptTokens, long promptNanos, int generatedTokens, long generationNanos) {
    /** Prompt evaluation speed, or 0 if no prompt token was evaluated. */
    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
    }

    /** Generation speed, or 0 if nothing was generated. */
    public double generationTokensPerSecond() {
        return generationNanos == 0 ? 0 : generatedTokens * 1e9 / generationNanos;
    }
}
