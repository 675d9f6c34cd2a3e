package org.llamajava.internal;

import org.llamajava.bindings.llama_context;

/**
 * One piece of a multimodal prompt: text tokens, or a media chunk (an image or audio clip) that
 * takes {@code positions} KV positions and evaluates itself into the context. {@code key}
 * identifies the media's content (a hash), so that a sequence can reuse a media chunk it already
 * holds. Internal: not part of the API.
 */
public record PromptSegment(int[] tokens, long key, int positions, MediaDecoder media) {

    /** Evaluates a media chunk into sequence {@code seq} from position {@code pos}. */
    @FunctionalInterface
    public interface MediaDecoder {
        /** Returns 0 on success, else llama_decode's or mtmd's error code. */
        int decode(llama_context ctx, int seq, int pos, int nBatch);
    }

    /** A text segment. */
    public static PromptSegment text(int[] tokens) {
        return new PromptSegment(tokens.clone(), 0, tokens.length, null);
    }

    /** A media segment. */
    public static PromptSegment media(long key, int positions, MediaDecoder decoder) {
        return new PromptSegment(null, key, positions, decoder);
    }

    /** Whether this is a media segment. */
    public boolean isMedia() {
        return media != null;
    }
}
