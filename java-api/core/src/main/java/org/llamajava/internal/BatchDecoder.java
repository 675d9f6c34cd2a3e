package org.llamajava.internal;

import java.nio.FloatBuffer;

/**
 * A context's one decode path, as llama-java's other packages (embeddings, the batched engine)
 * drive it: queue tokens of several sequences, decode them in one {@code llama_decode}, read each
 * sequence's outputs in place. {@code ContextPort.decoder()} gives it; callers hold the
 * context for the duration (they own it, or are inside one of its calls). Internal: not API.
 */
public interface BatchDecoder<S> {
    /** Most tokens one {@link #decode()} takes (n_batch). */
    int capacity();

    /** Rows queued since the last decode. */
    int rows();

    /** Room left in the batch. */
    int room();

    /** Queues one token of sequence {@code seq} at {@code pos}; returns its row. */
    int add(int seq, int token, int pos, boolean output);

    /** Decodes the queued rows; llama_decode's code (0 on success). */
    int decode();

    /** The exception for a failed {@link #decode()} of {@code tokens} tokens. */
    RuntimeException failure(int rc, int tokens);

    /** Whether sequence {@code seq} has logits from the last decode. */
    boolean hasLogits(int seq);

    /** Sequence {@code seq}'s logits, in place. */
    FloatBuffer logits(int seq);

    /** Sequence {@code seq}'s pooled embedding (float[n_embd_out], or n_cls_out scores for rank pooling), in place. */
    FloatBuffer sequenceEmbedding(int seq, int size);

    /** The embedding of batch row {@code row} (pooling none), in place. */
    FloatBuffer rowEmbedding(int row, int size);

    /** Empties the memory (KV cache) of every sequence. */
    void clearMemory();

    /**
     * Samples sequence {@code seq}'s logits with {@code sampler};
     * -1 when the sampler's grammar allows no token.
     */
    int sample(int seq, S sampler);

    /**
     * From now on, {@link #sample} of sequence {@code seq} records the {@code top} most likely
     * candidates left after the sampler chain, with their probabilities (llama-server's
     * {@code post_sampling_probs}); 0 records nothing. Not for samplers with a grammar (nothing is
     * recorded then).
     */
    default void recordCandidates(int seq, int top) {
    }

    /**
     * What the last {@link #sample} of sequence {@code seq} recorded (see {@link #recordCandidates}):
     * the token, its probability after the sampler chain and the top candidates, as
     * log-probabilities, in the implementation's own type (the API's {@code GeneratedToken}, which
     * this package does not name); null if nothing was recorded.
     */
    default Object sampledCandidates(int seq) {
        return null;
    }

    /** The token's text bytes in a reused buffer (valid until the next call); {@code length[0]} gets their count. */
    /** Whether {@code token} ends a generation (end of generation, end of turn). */
    boolean isEndOfGeneration(int token);

    byte[] piece(int token, int[] length);

    /** Drops sequence {@code seq}'s cache from position {@code pos} on (0: all of it). */
    void removeFrom(int seq, int pos);

    /**
     * llama.cpp's context shift: drops sequence {@code seq}'s cells at positions {@code keep} to
     * {@code keep + discard - 1} and moves those from {@code keep + discard} to {@code end - 1}
     * back by {@code discard}, so that they follow the kept ones.
     */
    void shift(int seq, int keep, int discard, int end);

    /** Sequence {@code seq}'s KV state ({@code llama_state_seq_get_data}), or null if it does not fit an array. */
    byte[] saveSequence(int seq);

    /**
     * Restores a state {@link #saveSequence} returned into sequence {@code seq}, which must be
     * empty; false if llama.cpp could not (no room), leaving it empty.
     */
    boolean restoreSequence(int seq, byte[] state);
}
