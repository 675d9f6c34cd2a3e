package org.llamajava;

/**
 * The result of a generation.
 *
 * @param text         the generated text
 * @param tokens       the generated token ids (including a final end-of-generation token, if any)
 * @param promptTokens tokens evaluated for the prompt
 * @param finishReason why generation stopped
 */
public record Completion(String text, int[] tokens, int promptTokens, FinishReason finishReason) {}
