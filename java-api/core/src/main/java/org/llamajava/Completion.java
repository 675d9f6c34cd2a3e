package org.llamajava;

/**
 * The result of a generation.
 *
 * @param text         the generated text (without a stop string that ended it)
 * @param tokens       the generated token ids (including a final end-of-generation token, if any)
 * @param promptTokens tokens of the prompt evaluated for this generation
 * @param cachedTokens tokens of the prompt reused from the KV cache instead of evaluated
 * @param finishReason why generation stopped
 * @param timings      how long the prompt and the generation took
 */
public record Completion(String text, int[] tokens, int promptTokens, int cachedTokens,
                         FinishReason finishReason, Timings timings) {}
