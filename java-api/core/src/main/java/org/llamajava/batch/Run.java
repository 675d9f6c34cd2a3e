package org.llamajava.batch;

import java.util.Map;
import org.llamajava.Completion;
import org.llamajava.FinishReason;
import org.llamajava.GeneratedToken;
import org.llamajava.GenerateOptions;
import org.llamajava.LoraAdapter;
import org.llamajava.Sampler;
import org.llamajava.Timings;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.GenerationEvent;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.MediaPrompt;
import org.llamajava.internal.TokenLoop;

/**
 * A request being served by a {@link Slot}: its sampler, how far its prompt has been evaluated,
 * and its {@link TokenLoop} (the same loop a {@code Sequence} runs), which takes the tokens
 * sampled for it. Engine thread only.
 */
final class Run {
    final BatchRequest request;
    final BatchHandle handle;
    final GenerateOptions options;
    final Sampler sampler;
    final TokenLoop loop;
    final long start = System.nanoTime();
    /** Its JFR event, begun with it, while a recording wants it, else null. */
    final GenerationEvent event = Jfr.generation() ? begun(new GenerationEvent()) : null;
    /** The prompt's text and media segments (request's prompt holds their keys), or null for tokens only. */
    MediaPrompt media;
    /** The LoRA adapters it generates with (no zero scales). */
    Map<LoraAdapter, Float> loras = Map.of();
    long promptDone;
    int next;
    int cached;
    int last = -1;
    /** Tokens context shifts dropped from its slot. */
    int discarded;

    /** A request in slot {@code seq} of {@code decoder}'s context. */
    Run(BatchRequest request, BatchHandle handle, Sampler sampler, BatchDecoder<Sampler> decoder, int seq) {
        this.request = request;
        this.handle = handle;
        this.options = request.options();
        this.sampler = sampler;
        java.util.function.Consumer<GeneratedToken> onToken = options.onToken();
        int k = options.logprobs();
        this.loop = new TokenLoop(decoder, seq, options.maxTokens(), options.stop(), options.onText(),
                TokenLoop.generatedTokens(decoder, seq, onToken, k, options.postSamplingProbs(), GeneratedToken::of,
                        GeneratedToken.class, GeneratedToken::token), k > 0, this::cancelled);
    }

    private static GenerationEvent begun(GenerationEvent e) {
        e.begin();
        return e;
    }

    boolean prefilling() {
        return next < request.promptLength();
    }

    /** Whether its handle was cancelled or its abort signal fired. */
    boolean cancelled() {
        return handle.isCancelled() || (options.abortSignal() != null && options.abortSignal().isAborted());
    }

    /** Its completion, ended at {@code now} (from {@link System#nanoTime()}). */
    Completion completion(long now) {
        long done = promptDone == 0 ? now : promptDone;
        int evaluated = next - cached;
        int n = loop.count();
        return new Completion(loop.text(), loop.tokens(), evaluated, cached, FinishReason.valueOf(loop.end().name()),
                new Timings(evaluated, done - start, n, now - done), 0, 0, media == null ? 0 : media.mediaPositions(),
                discarded);
    }
}
