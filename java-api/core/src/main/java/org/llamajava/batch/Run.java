package org.llamajava.batch;

import java.util.Map;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Sampler;
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
}
