package org.llamajava.batch;

import org.llamajava.GenerateOptions;
import org.llamajava.Sampler;

/**
 * One generation for a {@link BatchEngine}: the prompt's tokens, how to sample (the engine builds
 * its own sampler chain from the builder, so a seeded chain gives the same tokens however the
 * request is batched), and the usual {@link GenerateOptions} (max tokens, stop strings, text and
 * token callbacks, log-probabilities, an abort signal). Callbacks run on the engine's thread:
 * keep them short.
 *
 * @param prompt  the prompt's tokens (not empty)
 * @param sampler the sampler chain to build for this request (with the model's vocabulary, so
 *                that penalties, DRY, logit biases and Mirostat v1 work), or null for greedy
 * @param options max tokens, stop strings, callbacks, log-probabilities, abort signal
 */
public record BatchRequest(int[] prompt, Sampler.Builder sampler, GenerateOptions options) {

    public BatchRequest {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (options == null) {
            throw new IllegalArgumentException("options are required; e.g. GenerateOptions.maxTokens(n)");
        }
        prompt = prompt.clone();
    }

    /** A copy of the prompt. */
    @Override
    public int[] prompt() {
        return prompt.clone();
    }

    /** A greedy request. */
    public static BatchRequest of(int[] prompt, GenerateOptions options) {
        return new BatchRequest(prompt, null, options);
    }

    int promptLength() {
        return prompt.length;
    }

    int promptToken(int i) {
        return prompt[i];
    }
}
