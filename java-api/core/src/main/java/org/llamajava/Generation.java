package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.util.Arrays;
import org.llamajava.internal.GenerationEvent;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.SpeculationEvent;
import org.llamajava.internal.TokenLoop;

/**
 * One generation in progress on a {@link Sequence}, on the caller's thread: sampling (with the
 * sampler's grammar), evaluating and speculation; what happens to each sampled token (streaming,
 * log-probabilities, stop strings, limits, the finish reason, cancellation) is its
 * {@link TokenLoop}'s, the one the batching engine steps too. Its sequence owns the KV cache and
 * the token history it reads and extends.
 */
final class Generation {
    private final Sequence seq;
    final Sampler sampler;
    final GenerateOptions options;
    int promptTokens;
    int cached;
    int media;
    long promptNanos;
    final TokenLoop loop;
    final Runnable unregister;
    long genNanos;
    /** Drafts tokens, or null. */
    final Speculation speculation;
    /** Drafted and accepted tokens so far. */
    int drafted;
    int accepted;
    /** A token sampled and emitted by a speculative batch but not yet evaluated, or -1. */
    int pending = -1;
    int[] draft;
    /** When it started ({@link System#nanoTime()}). */
    private final long started = System.nanoTime();
    /** Its JFR event while a recording wants it, else null. */
    private final GenerationEvent event;

    /** Checks the arguments and registers with the abort signal; {@link #close()} unregisters. */
    Generation(Sequence seq, Sampler sampler, GenerateOptions options) {
        this.seq = seq;
        if (sampler == null || options == null) {
            throw new IllegalArgumentException("sampler and options are required; e.g. Sampler.greedy()");
        }
        sampler.handle();
        this.speculation = options.speculation();
        if (speculation != null) {
            speculation.prepare(seq.ctx.model(), seq.ctx.contextSize(), seq.ctx.params().threads());
        }
        this.sampler = sampler;
        this.options = options;
        AbortSignal signal = options.abortSignal();
        this.loop = loop(seq.decoder, seq.id, options, signal == null ? null : signal::isAborted);
        this.unregister = signal == null ? null : signal.onAbort(() -> seq.decoder.setAbort(true));
        this.event = Jfr.generation() ? new GenerationEvent() : null;
        if (event != null) {
            event.begin();
        }
    }

    /** The token loop of a request with {@code options} on sequence {@code seq} of {@code decoder}. */
    static TokenLoop loop(org.llamajava.internal.BatchDecoder<?> decoder, int seq, GenerateOptions options,
                          java.util.function.BooleanSupplier cancelled) {
        java.util.function.Consumer<GeneratedToken> onToken = options.onToken();
        int k = options.logprobs();
        return new TokenLoop(decoder, seq, options.maxTokens(), options.stop(), options.onText(),
                TokenLoop.generatedTokens(decoder, seq, onToken, k, options.postSamplingProbs(), GeneratedToken::of,
                        GeneratedToken.class, GeneratedToken::token), k > 0, cancelled);
    }

    /** Whether it has ended. */
    boolean finished() {
        return loop.finished();
    }

    /** Records the prompt's figures, once it is evaluated. */
    void prompted(int promptTokens, int cached, long promptNanos) {
        this.promptTokens = promptTokens;
        this.cached = cached;
        this.promptNanos = promptNanos;
    }

    /** Ends the generation before its first token (aborted during the prompt). */
    void finishCancelled() {
        loop.finish(TokenLoop.End.CANCELLED, null);
    }

    /** Generates until finished. */
    Completion run() {
        try {
            while (!loop.finished()) {
                step(null);
            }
        } catch (ContextOverflowException e) {
            throw new ContextOverflowException(e.getMessage(), result());
        }
        return result();
    }

    /**
     * Generates one token, or with speculation a verified batch of them; appends emitted text
     * to {@code sink} if given.
     */
    void step(StringBuilder sink) {
        long t0 = System.nanoTime();
        try {
            if (loop.checkCancelled(sink)) {
                return;
            }
            int token;
            if (pending >= 0) { // sampled and emitted by the last speculative batch
                token = pending;
                pending = -1;
            } else {
                seq.ensureLogits();
                token = seq.decoder.sample(seq.id, sampler);
                if (loop.take(token, sink)) {
                    return;
                }
            }
            if (speculation != null && speculate(token, sink)) {
                return;
            }
            seq.one[0] = token;
            seq.evaluate(seq.one, 0, 1);
        } catch (AbortedException e) {
            loop.finish(TokenLoop.End.CANCELLED, sink);
        } finally {
            genNanos += System.nanoTime() - t0;
        }
    }

    /**
     * Drafts tokens to follow {@code token} (sampled and emitted, not yet evaluated), decodes
     * it and the draft in one batch, and samples every row in order while the samples agree
     * with the draft: the first disagreement (or the row after the last drafted token) is the
     * next token, kept pending for the next step; the KV cache keeps {@code token} and the
     * accepted draft, and loses the rest.
     *
     * @return false when nothing was drafted (the caller evaluates {@code token} alone)
     */
    private boolean speculate(int token, StringBuilder sink) {
        int max = Math.min(Math.min(seq.decoder.capacity() - 1, seq.ctx.contextSize() - seq.length - 1),
                loop.left() - 1);
        if (max <= 0) {
            return false;
        }
        if (seq.length + 1 > seq.history.length) {
            seq.history = Arrays.copyOf(seq.history, seq.history.length * 2);
        }
        seq.history[seq.length] = token; // what the draft continues; length counts it once it is decoded
        if (draft == null || draft.length < max) {
            draft = new int[Math.max(max, speculation.params().draftMax())];
        }
        SpeculationEvent spec = Jfr.speculation() ? new SpeculationEvent() : null;
        if (spec != null) {
            spec.begin(); // the step: drafting, the verifying decode, and sampling its rows
        }
        int k = speculation.draft(seq.history, seq.length + 1, draft, max);
        if (k == 0) {
            return false;
        }
        int base = seq.length;
        seq.decoder.add(seq.id, token, base, true);
        for (int i = 0; i < k; i++) {
            seq.decoder.add(seq.id, draft[i], base + 1 + i, true);
        }
        int rc = seq.decoder.decode();
        if (rc != 0) {
            llama_memory_seq_rm(seq.ctx.memory(), seq.id, base, -1);
            seq.decoder.forgetLogits(seq.id);
            throw seq.decoder.failure(rc, k + 1);
        }
        drafted += k;
        int acceptedBefore = accepted;
        try {
            return verify(token, k, base, sink);
        } finally {
            if (spec != null) {
                spec.sequence = seq.id;
                spec.drafted = k;
                spec.accepted = accepted - acceptedBefore;
                spec.commit();
            }
        }
    }

    /** Samples the rows of a decoded draft {@code draft[0..k)} after {@code token} at {@code base}; see {@link #speculate}. */
    private boolean verify(int token, int k, int base, StringBuilder sink) {
        seq.one[0] = token;
        seq.remember(seq.one, 0, 1);
        seq.remember(draft, 0, k);
        for (int i = 0; i <= k; i++) {
            seq.decoder.useRow(seq.id, i);
            int s = seq.decoder.sampleAt(i, sampler);
            if (s < 0) { // the grammar allows no token
                seq.cut(base + 1 + i);
                seq.decoder.useRow(seq.id, i);
                loop.take(s, sink);
                return true;
            }
            boolean agreed = i < k && s == draft[i];
            if (agreed) {
                accepted++;
            }
            boolean ended = loop.emit(s, sink);
            if (ended || !agreed) {
                seq.cut(base + 1 + i);
                seq.decoder.useRow(seq.id, i);
                if (!ended) {
                    pending = s;
                }
                return true;
            }
        }
        throw new AssertionError("the row after the last drafted token is never accepted");
    }

    Completion result() {
        return new Completion(loop.text(), loop.tokens(), promptTokens, cached, FinishReason.valueOf(loop.end().name()),
                new Timings(promptTokens, promptNanos, loop.count(), genNanos), drafted, accepted, media);
    }

    void close() {
        if (event != null) {
            event.end();
            if (event.shouldCommit()) {
                event.runner = "sequence";
                event.sequence = seq.id;
                event.promptTokens = promptTokens;
                event.reusedTokens = cached;
                event.generatedTokens = loop.count();
                event.timeToFirstToken = loop.firstTokenAt() == 0 ? 0 : loop.firstTokenAt() - started;
                event.finishReason = loop.finished() ? loop.end().name() : "FAILED";
                event.draftedTokens = drafted;
                event.acceptedTokens = accepted;
                event.commit();
            }
        }
        if (unregister != null) {
            unregister.run();
            seq.decoder.setAbort(false);
        }
    }
}
