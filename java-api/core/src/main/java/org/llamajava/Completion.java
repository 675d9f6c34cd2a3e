package org.llamajava;

import java.util.Arrays;
import java.util.Objects;

/**
 * The result of a generation.
 *
 * @param text         the generated text (without a stop string that ended it)
 * @param tokens       the generated token ids (including a final end-of-generation token, if any)
 * @param promptTokens tokens of the prompt evaluated for this generation
 * @param cachedTokens tokens of the prompt reused from the KV cache instead of evaluated
 * @param finishReason why generation stopped
 * @param timings      how long the prompt and the generation took
 * @param draftedTokens  tokens a {@link Speculation} proposed (0 without speculation)
 * @param acceptedTokens of those, tokens the model verified and kept
 * @param mediaTokens  of the prompt's tokens (evaluated or reused), how many were image or audio
 *                     embeddings from a projector ({@code org.llamajava.multimodal}); 0 for a text prompt
 * @param discardedTokens tokens the batching engine's context shift dropped from the request's
 *                     slot so that it could go on generating ({@link org.llamajava.batch.EngineParams#overflow()});
 *                     0 when its context never filled up
 */
public record Completion(String text, int[] tokens, int promptTokens, int cachedTokens,
                         FinishReason finishReason, Timings timings, int draftedTokens, int acceptedTokens,
                         int mediaTokens, int discardedTokens) {

    /** A completion whose context was never shifted. */
    public Completion(String text, int[] tokens, int promptTokens, int cachedTokens, FinishReason finishReason,
                      Timings timings, int draftedTokens, int acceptedTokens, int mediaTokens) {
        this(text, tokens, promptTokens, cachedTokens, finishReason, timings, draftedTokens, acceptedTokens,
                mediaTokens, 0);
    }

    /** A completion generated without speculation, of a text prompt. */
    public Completion(String text, int[] tokens, int promptTokens, int cachedTokens, FinishReason finishReason,
                      Timings timings) {
        this(text, tokens, promptTokens, cachedTokens, finishReason, timings, 0, 0, 0);
    }

    /** A completion of a text prompt, with speculation's counts. */
    public Completion(String text, int[] tokens, int promptTokens, int cachedTokens, FinishReason finishReason,
                      Timings timings, int draftedTokens, int acceptedTokens) {
        this(text, tokens, promptTokens, cachedTokens, finishReason, timings, draftedTokens, acceptedTokens, 0);
    }

    /** A completion generated without speculation, of a prompt with {@code mediaTokens} image or audio tokens. */
    public Completion(String text, int[] tokens, int promptTokens, int cachedTokens, FinishReason finishReason,
                      Timings timings, int mediaTokens) {
        this(text, tokens, promptTokens, cachedTokens, finishReason, timings, 0, 0, mediaTokens);
    }

    /** Copies {@code tokens}, so that later changes to the caller's array do not show here. */
    public Completion {
        tokens = tokens == null ? new int[0] : tokens.clone();
    }

    /** A copy of the generated token ids. */
    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** How many tokens were generated (without copying them). */
    public int tokenCount() {
        return tokens.length;
    }

    /** Equal when every component is, the tokens compared by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Completion c && Objects.equals(text, c.text) && Arrays.equals(tokens, c.tokens)
                && promptTokens == c.promptTokens && cachedTokens == c.cachedTokens
                && finishReason == c.finishReason && Objects.equals(timings, c.timings)
                && draftedTokens == c.draftedTokens && acceptedTokens == c.acceptedTokens && mediaTokens == c.mediaTokens
                && discardedTokens == c.discardedTokens;
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, Arrays.hashCode(tokens), promptTokens, cachedTokens, finishReason, timings,
                draftedTokens, acceptedTokens, mediaTokens, discardedTokens);
    }

    @Override
    public String toString() {
        return "Completion[text=" + text + ", tokens=" + Arrays.toString(tokens) + ", promptTokens=" + promptTokens
                + ", cachedTokens=" + cachedTokens + ", finishReason=" + finishReason + ", timings=" + timings + ", draftedTokens=" + draftedTokens + ", acceptedTokens=" + acceptedTokens
                + (mediaTokens == 0 ? "" : ", mediaTokens=" + mediaTokens)
                + (discardedTokens == 0 ? "" : ", discardedTokens=" + discardedTokens) + "]";
    }
}
