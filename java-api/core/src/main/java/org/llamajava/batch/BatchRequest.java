package org.llamajava.batch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Sampler;

/**
 * One generation for a {@link BatchEngine}: the prompt's tokens, how to sample (the engine builds
 * its own sampler chain from the builder, so a seeded chain gives the same tokens however the
 * request is batched), the usual {@link GenerateOptions} (max tokens, stop strings, text and
 * token callbacks, log-probabilities, an abort signal), and optionally the LoRA adapters to
 * generate with. Callbacks run on the engine's thread: keep them short.
 *
 * @param prompt       the prompt's tokens (not empty)
 * @param sampler      the sampler chain to build for this request (with the model's vocabulary, so
 *                     that penalties, DRY, logit biases and Mirostat v1 work), or null for greedy
 * @param options      max tokens, stop strings, callbacks, log-probabilities, abort signal
 * @param loraAdapters the LoRA adapters (of the engine's model) and their scales for this request
 *                     alone, replacing the engine's {@link BatchEngine#loraAdapters()} (an empty
 *                     map: none); null: the engine's. Requests with other adapters are not decoded
 *                     in the same step (see {@link BatchEngine})
 * @param keepTokens   when the engine shifts a full slot ({@link EngineParams#overflow()}), the tokens
 *                     at its start that this request keeps (llama-server's per-request
 *                     {@code n_keep}; at most the slot's size less 4); -1: the engine's
 *                     {@link org.llamajava.OverflowPolicy#keepTokens()}. An engine that does not shift
 *                     ignores it
 */
public record BatchRequest(int[] prompt, Sampler.Builder sampler, GenerateOptions options,
                           Map<LoraAdapter, Float> loraAdapters, int keepTokens) {

    /** A request that keeps the engine's tokens at a shift. */
    public BatchRequest(int[] prompt, Sampler.Builder sampler, GenerateOptions options,
                        Map<LoraAdapter, Float> loraAdapters) {
        this(prompt, sampler, options, loraAdapters, -1);
    }

    public BatchRequest {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (options == null) {
            throw new IllegalArgumentException("options are required; e.g. GenerateOptions.maxTokens(n)");
        }
        if (keepTokens < -1) {
            throw new IllegalArgumentException("keepTokens must be -1 (the engine's) or more; got " + keepTokens);
        }
        prompt = prompt.clone();
        if (loraAdapters != null) {
            loraAdapters = checkedCopy(loraAdapters);
        }
    }

    /** An unmodifiable copy, in order, of adapters and scales: none null, every scale finite. */
    static Map<LoraAdapter, Float> checkedCopy(Map<LoraAdapter, Float> adapters) {
        Map<LoraAdapter, Float> copy = new LinkedHashMap<>();
        adapters.forEach((a, s) -> {
            if (a == null) {
                throw new IllegalArgumentException("a LoRA adapter is null");
            }
            if (s == null || !Float.isFinite(s)) {
                throw new IllegalArgumentException("a LoRA scale must be a finite number, not " + s + " (" + a + ")");
            }
            copy.put(a, s);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** A request with the engine's LoRA adapters. */
    public BatchRequest(int[] prompt, Sampler.Builder sampler, GenerateOptions options) {
        this(prompt, sampler, options, null);
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

    /**
     * This request with its own LoRA adapters and scales (an empty map: none), or with the
     * engine's (null).
     */
    public BatchRequest withLoraAdapters(Map<LoraAdapter, Float> adapters) {
        return new BatchRequest(prompt, sampler, options, adapters);
    }

    int promptLength() {
        return prompt.length;
    }

    int promptToken(int i) {
        return prompt[i];
    }
}
