package org.llamajava;

/**
 * What a {@link Sequence} does when its tokens would no longer fit in the context.
 *
 * @param shift       false: fail with {@link ContextOverflowException}; true: drop the oldest tokens
 *                    after the first {@code keepTokens} (half of the rest at a time) and move the
 *                    remaining ones back, as llama.cpp's context shift does
 * @param keepTokens  tokens at the start that are never dropped (e.g. BOS and the system prompt)
 */
public record OverflowPolicy(boolean shift, int keepTokens) {
    public OverflowPolicy {
        if (keepTokens < 0) {
            throw new IllegalArgumentException("keepTokens must be >= 0; got " + keepTokens);
        }
    }

    /** Fail with {@link ContextOverflowException} (the default). */
    public static OverflowPolicy fail() {
        return new OverflowPolicy(false, 0);
    }

    /** Shift the context, keeping the first {@code keepTokens} tokens. */
    public static OverflowPolicy shift(int keepTokens) {
        return new OverflowPolicy(true, keepTokens);
    }
}
