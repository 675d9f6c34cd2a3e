package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.util.Arrays;
import org.llamajava.internal.LogProbs;
import org.llamajava.internal.TextAssembler;

/**
 * One generation in progress on a {@link Sequence}, on the caller's thread: sampling (with the
 * sampler's grammar), evaluating, speculation, streaming text and tokens (with log-probabilities),
 * stop strings, the finish reason and cancellation. Its sequence owns the KV cache and the token
 * history it reads and extends.
 */
final class Generation {
    private final Sequence seq;
    final Sampler sampler;
    final GenerateOptions options;
    int promptTokens;
    int cached;
    int media;
    long promptNanos;
    final TextAssembler text;
    final Runnable unregister;
    int[] out;
    int n;
    long genNanos;
    boolean finished;
    FinishReason reason = FinishReason.MAX_TOKENS;
    /** Drafts tokens, or null. */
    final Speculation speculation;
    /** Drafted and accepted tokens so far. */
    int drafted;
    int accepted;
    /** A token sampled and emitted by a speculative batch but not yet evaluated, or -1. */
    int pending = -1;
    int[] draft;

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
        this.text = new TextAssembler(options.stop(), options.onText());
        // sized for the whole generation up to a bound, so that short ones never grow it
        this.out = new int[Math.max(1, Math.min(options.maxTokens(), 1024))];
        AbortSignal signal = options.abortSignal();
        this.unregister = signal == null ? null : signal.onAbort(() -> seq.decoder.setAbort(true));
        if (options.maxTokens() == 0) {
            finish(FinishReason.MAX_TOKENS, null);
        }
    }

    /** Records the prompt's figures, once it is evaluated. */
    void prompted(int promptTokens, int cached, long promptNanos) {
        this.promptTokens = promptTokens;
        this.cached = cached;
        this.promptNanos = promptNanos;
    }

    /** Ends the generation before its first token (aborted during the prompt). */
    void finishCancelled() {
        finish(FinishReason.CANCELLED, null);
    }

    /** Generates until finished. */
    Completion run() {
        try {
            while (!finished) {
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
            if (options.abortSignal() != null && options.abortSignal().isAborted()) {
                finish(FinishReason.CANCELLED, sink);
                return;
            }
            int token;
            if (pending >= 0) { // sampled and emitted by the last speculative batch
                token = pending;
                pending = -1;
            } else {
                seq.ensureLogits();
                token = seq.decoder.sample(seq.id, sampler);
                if (token == Decoder.GRAMMAR_REJECTED) {
                    finish(FinishReason.GRAMMAR_REJECTED, sink);
                    return;
                }
                if (emit(token, sink)) {
                    return;
                }
            }
            if (speculation != null && speculate(token, sink)) {
                return;
            }
            seq.one[0] = token;
            seq.evaluate(seq.one, 0, 1);
        } catch (AbortedException e) {
            finish(FinishReason.CANCELLED, sink);
        } finally {
            genNanos += System.nanoTime() - t0;
        }
    }

    /** Records and streams a sampled token; returns whether the generation ended with it. */
    private boolean emit(int token, StringBuilder sink) {
        if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
        }
        out[n++] = token;
        if (options.onToken() != null) {
            options.onToken().accept(describe(token));
        }
        if (seq.vocab.isEndOfGeneration(token)) {
            finish(FinishReason.END_OF_GENERATION, sink);
            return true;
        }
        byte[] piece = seq.decoder.piece(token, seq.pieceLength);
        sink(text.push(piece, seq.pieceLength[0]), sink);
        if (text.stopped()) {
            finish(FinishReason.STOP_STRING, sink);
            return true;
        }
        if (n == options.maxTokens()) {
            finish(FinishReason.MAX_TOKENS, sink);
            return true;
        }
        return false;
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
                options.maxTokens() - n - 1);
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
        seq.one[0] = token;
        seq.remember(seq.one, 0, 1);
        seq.remember(draft, 0, k);
        for (int i = 0; i <= k; i++) {
            seq.decoder.useRow(seq.id, i);
            int s = seq.decoder.sampleAt(i, sampler);
            if (s == Decoder.GRAMMAR_REJECTED) {
                seq.cut(base + 1 + i);
                seq.decoder.useRow(seq.id, i);
                finish(FinishReason.GRAMMAR_REJECTED, sink);
                return true;
            }
            boolean agreed = i < k && s == draft[i];
            if (agreed) {
                accepted++;
            }
            boolean ended = emit(s, sink);
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

    private GeneratedToken describe(int token) {
        return options.logprobs() == 0 ? LogProbs.describe(null, token, 0)
                : LogProbs.describe(seq.decoder.logits(seq.id), token, options.logprobs());
    }

    private void sink(String s, StringBuilder sink) {
        if (sink != null) {
            sink.append(s);
        }
    }

    private void finish(FinishReason r, StringBuilder sink) {
        boolean stoppedBefore = text.stopped();
        sink(text.finish(), sink);
        reason = !stoppedBefore && text.stopped() ? FinishReason.STOP_STRING : r;
        finished = true;
    }

    Completion result() {
        return new Completion(text.text(), n == out.length ? out : Arrays.copyOf(out, n), promptTokens, cached, reason,
                new Timings(promptTokens, promptNanos, n, genNanos), drafted, accepted, media);
    }

    void close() {
        if (unregister != null) {
            unregister.run();
            seq.decoder.setAbort(false);
        }
    }
}
