package org.llamajava.batch;

import org.llamajava.AbortedException;
import org.llamajava.Context;
import org.llamajava.ContextOverflowException;
import org.llamajava.LlamaException;
import org.llamajava.Vocabulary;
import org.llamajava.bindings.llama_context;
import org.llamajava.Sampler;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.MediaPrompt;
import org.llamajava.internal.PromptSegment;

/**
 * The image and audio chunks of prompts (from {@code org.llamajava.multimodal.Projector}): whether
 * a prompt of text and media fits a slot, and the decode that evaluates one chunk into a slot's
 * sequence (each chunk by its own, outside the engine's batch). Decoding runs on the engine thread.
 */
final class MediaChunks {
    private final Context context;
    private final BatchDecoder<Sampler> decoder;

    MediaChunks(Context context, BatchDecoder<Sampler> decoder) {
        this.context = context;
        this.decoder = decoder;
    }

    /**
     * Checks a prompt's text tokens against the vocabulary, and that it leaves room in a slot of
     * {@code perSlot} positions for one generated token.
     */
    static void check(MediaPrompt prompt, Vocabulary vocab, int perSlot) {
        for (PromptSegment seg : prompt.segments()) {
            if (!seg.isMedia()) {
                vocab.checkTokens(seg.tokens());
            }
        }
        if (prompt.length() >= perSlot) {
            throw new ContextOverflowException("the prompt takes " + prompt.length() + " positions ("
                    + prompt.mediaPositions() + " of them image or audio embeddings); a slot holds " + perSlot
                    + " (contextSize / slots), prompt and reply together: send smaller or fewer images, or start the"
                    + " engine with a larger contextSize or fewer slots");
        }
    }

    /**
     * Evaluates media chunk {@code seg} into slot {@code s}'s sequence, from the slot's length on,
     * then forgets the logits it overwrote (an empty decode of the engine's batch, which must hold
     * no rows).
     *
     * @return the decode's code: 0 done, else see {@link #failure}
     * @throws RuntimeException if evaluating failed
     */
    int decode(Slot s, PromptSegment seg) {
        int rc;
        try {
            llama_context lctx = context.port().handle();
            int id = s.id;
            int from = s.length;
            int nBatch = decoder.capacity();
            rc = context.port().guardedDecode("evaluating an image or audio chunk",
                    () -> seg.media().decode(lctx, id, from, nBatch));
        } catch (RuntimeException e) {
            decoder.decode();
            throw e;
        }
        decoder.decode(); // empty: forgets the logits the media decode overwrote
        return rc;
    }

    /** Why evaluating {@code seg} failed with code {@code rc} (2: aborted). */
    static RuntimeException failure(int rc, PromptSegment seg) {
        return rc == 2 ? new AbortedException("decode was aborted")
                : new LlamaException("evaluating an image or audio chunk of " + seg.positions()
                + " positions failed with code " + rc);
    }
}
