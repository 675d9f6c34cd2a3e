package org.llamajava.batch;

import java.util.Arrays;
import java.util.Map;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Sampler;
import org.llamajava.Timings;
import org.llamajava.internal.MediaPrompt;
import org.llamajava.internal.TextAssembler;

/**
 * A request being served by a {@link Slot}: its sampler and text, how far its prompt has been
 * evaluated, and the tokens it has generated. Engine thread only.
 */
final class Run {
    final BatchRequest request;
    final BatchHandle handle;
    final GenerateOptions options;
    final Sampler sampler;
    final TextAssembler text;
    final long start = System.nanoTime();
    /** The prompt's text and media segments (request's prompt holds their keys), or null for tokens only. */
    MediaPrompt media;
    /** The LoRA adapters it generates with (no zero scales). */
    Map<LoraAdapter, Float> loras = Map.of();
    long promptDone;
    int next;
    int cached;
    int last = -1;
    int[] out;
    int n;

    Run(BatchRequest request, BatchHandle handle, Sampler sampler) {
        this.request = request;
        this.handle = handle;
        this.options = request.options();
        this.sampler = sampler;
        this.text = new TextAssembler(options.stop(), options.onText());
        this.out = new int[Math.max(1, Math.min(options.maxTokens(), 1024))];
    }

    boolean prefilling() {
        return next < request.promptLength();
    }

    /** Whether its handle was cancelled or its abort signal fired. */
    boolean cancelled() {
        return handle.isCancelled() || (options.abortSignal() != null && options.abortSignal().isAborted());
    }

    /** Adds a generated token. */
    void add(int token) {
        if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
        }
        out[n++] = token;
    }

    /**
     * Ends its text (text held back for a stop string is let out, or matches one) and tells why
     * it ends: {@code reason}, or {@link FinishReason#STOP_STRING} if that ending matched a stop string.
     *
     * @throws RuntimeException from the request's text callback
     */
    FinishReason endText(FinishReason reason) {
        boolean before = text.stopped();
        text.finish();
        return !before && text.stopped() ? FinishReason.STOP_STRING : reason;
    }

    /** Its completion, ended at {@code now} (from {@link System#nanoTime()}) for {@code reason}. */
    Completion completion(FinishReason reason, long now) {
        long done = promptDone == 0 ? now : promptDone;
        int evaluated = next - cached;
        return new Completion(text.text(), Arrays.copyOf(out, n), evaluated, cached, reason,
                new Timings(evaluated, done - start, n, now - done), media == null ? 0 : media.mediaPositions());
    }
}
