package org.llamajava.internal;

import java.util.List;

/**
 * What {@code org.llamajava.multimodal} needs of a {@code Sequence}: prompts of text and media
 * segments, and its context. Given by {@code Sequence.port()}. Internal: not API.
 *
 * @param <S> the sampler type ({@code org.llamajava.Sampler})
 * @param <O> the options type ({@code org.llamajava.GenerateOptions})
 * @param <C> the result type ({@code org.llamajava.Completion})
 */
public interface SequencePort<S, O, C> {
    /**
     * Makes the sequence hold the prompt's text tokens and media chunks, evaluating only what
     * follows the longest common prefix with what it holds (a media chunk is reused whole or
     * evaluated whole); returns how many positions were reused.
     */
    int prompt(List<PromptSegment> prompt);

    /** {@link #prompt}, then generates as {@code Sequence.generate} does. */
    C generate(List<PromptSegment> prompt, S sampler, O options);

    /** The sequence's context. */
    ContextPort<?, S> context();
}
