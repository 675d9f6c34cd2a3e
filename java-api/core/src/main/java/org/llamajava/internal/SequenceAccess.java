package org.llamajava.internal;

import java.util.List;
import org.llamajava.Completion;
import org.llamajava.GenerateOptions;
import org.llamajava.Sampler;

/**
 * The part of {@code org.llamajava.Sequence} that multimodal prompts need, which it keeps
 * package-private: evaluating a prompt of text and media segments with KV reuse. Internal: not
 * part of the API.
 */
public interface SequenceAccess {
    /** Makes the sequence hold {@code prompt} (reusing the cache), then generates; see {@code Sequence.generate}. */
    Completion generate(Object sequence, List<PromptSegment> prompt, Sampler sampler, GenerateOptions options);

    /** Makes the sequence hold {@code prompt}, reusing the cache; returns the positions reused. */
    int prompt(Object sequence, List<PromptSegment> prompt);

    /** The sequence's model. */
    Object model(Object sequence);

    /** The sequence's context's native handle. */
    org.llamajava.bindings.llama_context context(Object sequence);
}
