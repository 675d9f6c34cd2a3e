package org.llamajava.internal;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One request's token loop, the only one in llama-java: taking a sampled token (or the grammar's
 * refusal), recording it, streaming it with its logits to the token listener, ending on an
 * end-of-generation token, a stop string or the token limit, streaming the text (held back while
 * it may be the start of a stop string), cancellation, and the finish reason. How tokens are
 * decoded is the caller's: a {@code Sequence} steps one loop on the caller's thread (with
 * speculation), the batching engine steps many in one decode. Internal: not API.
 */
public final class TokenLoop {
    /** Why a loop ended; the names are {@code org.llamajava.FinishReason}'s. */
    public enum End { END_OF_GENERATION, STOP_STRING, MAX_TOKENS, GRAMMAR_REJECTED, CANCELLED }

    /** Receives each sampled token with its sequence's logits (null when no log-probabilities are asked for). */
    @FunctionalInterface
    public interface TokenListener {
        void token(int token, FloatBuffer logits);
    }

    /** Makes a token's report from the raw logits: the token and the {@code k} most likely alternatives. */
    @FunctionalInterface
    public interface TokenReport<T> {
        T of(int token, FloatBuffer logits, int k);
    }

    /**
     * The listener that gives {@code onToken} each token as a {@code T} (the API's {@code GeneratedToken})
     * with the {@code k} most likely alternatives: of the raw logits ({@code raw}), or with
     * {@code postSampling} of what the sampler chain left (the decoder records them as it samples, as a
     * {@code type}; a token it did not record, e.g. one a grammar constrained, gets the raw logits').
     * Null without {@code onToken}.
     */
    public static <T> TokenListener generatedTokens(BatchDecoder<?> decoder, int seq, Consumer<T> onToken, int k,
                                                    boolean postSampling, TokenReport<T> raw, Class<T> type,
                                                    java.util.function.ToIntFunction<T> tokenOf) {
        boolean post = postSampling && k > 0 && onToken != null;
        decoder.recordCandidates(seq, post ? k : 0);
        if (onToken == null) {
            return null;
        }
        if (!post) {
            return (token, logits) -> onToken.accept(raw.of(token, logits, k));
        }
        return (token, logits) -> {
            Object r = decoder.sampledCandidates(seq);
            onToken.accept(type.isInstance(r) && tokenOf.applyAsInt(type.cast(r)) == token ? type.cast(r)
                    : raw.of(token, logits, k));
        };
    }

    private final BatchDecoder<?> decoder;
    private final int seq;
    private final int maxTokens;
    private final boolean wantLogits;
    private final TokenListener onToken;
    private final BooleanSupplier cancelled;
    private final TextAssembler text;
    private final int[] pieceLength = new int[1];
    private int[] out;
    private int n;
    private boolean finished;
    private End end = End.MAX_TOKENS;
    /** {@link System#nanoTime()} when the first token was taken, or 0. */
    private long firstTokenAt;

    /**
     * A loop over sequence {@code seq} of {@code decoder}.
     *
     * @param stop stop strings (none: empty)
     * @param onText receives text as it is let out; may be null
     * @param onToken receives each token; may be null
     * @param logprobs whether {@code onToken} wants the logits
     * @param cancelled whether the request was cancelled (polled before each token); may be null
     */
    public TokenLoop(BatchDecoder<?> decoder, int seq, int maxTokens, List<String> stop, Consumer<String> onText,
                     TokenListener onToken, boolean logprobs, BooleanSupplier cancelled) {
        this.decoder = decoder;
        this.seq = seq;
        this.maxTokens = maxTokens;
        this.onToken = onToken;
        this.wantLogits = logprobs && onToken != null;
        this.cancelled = cancelled;
        this.text = new TextAssembler(stop, onText);
        // sized for the whole generation up to a bound, so that short ones never grow it
        this.out = new int[Math.max(1, Math.min(maxTokens, 1024))];
        if (maxTokens == 0) {
            finish(End.MAX_TOKENS, null);
        }
    }

    /** Whether the request was cancelled; if so the loop is finished as {@link End#CANCELLED}. */
    public boolean checkCancelled(StringBuilder sink) {
        if (!finished && cancelled != null && cancelled.getAsBoolean()) {
            finish(End.CANCELLED, sink);
        }
        return finished && end == End.CANCELLED;
    }

    /**
     * Takes what sampling returned: a token, or a negative value when the grammar allowed none
     * (the loop then ends as {@link End#GRAMMAR_REJECTED} and this returns true). Otherwise
     * {@link #emit}s it and returns whether the loop ended with it.
     *
     * @param sink receives the text let out; may be null
     */
    public boolean take(int sampled, StringBuilder sink) {
        if (sampled < 0) {
            if (Jfr.grammarRejection()) {
                GrammarRejectionEvent e = new GrammarRejectionEvent();
                e.sequence = seq;
                e.generatedTokens = n;
                e.commit();
            }
            finish(End.GRAMMAR_REJECTED, sink);
            return true;
        }
        return emit(sampled, sink);
    }

    /** Records and streams a sampled token; returns whether the loop ended with it. */
    public boolean emit(int token, StringBuilder sink) {
        if (n == out.length) {
            out = Arrays.copyOf(out, n * 2);
        }
        if (n == 0) {
            firstTokenAt = System.nanoTime();
        }
        out[n++] = token;
        if (onToken != null) {
            onToken.token(token, wantLogits ? decoder.logits(seq) : null);
        }
        if (decoder.isEndOfGeneration(token)) {
            finish(End.END_OF_GENERATION, sink);
            return true;
        }
        byte[] piece = decoder.piece(token, pieceLength);
        append(text.push(piece, pieceLength[0]), sink);
        if (text.stopped()) {
            finish(End.STOP_STRING, sink);
            return true;
        }
        if (n == maxTokens) {
            finish(End.MAX_TOKENS, sink);
            return true;
        }
        return false;
    }

    /**
     * Ends the loop for {@code reason}, letting out the text held back; the reason becomes
     * {@link End#STOP_STRING} if that text completes a stop string. Idempotent.
     *
     * @throws RuntimeException from the text callback
     */
    public void finish(End reason, StringBuilder sink) {
        if (finished) {
            return;
        }
        finished = true;
        end = reason;
        boolean stoppedBefore = text.stopped();
        append(text.finish(), sink);
        if (!stoppedBefore && text.stopped()) {
            end = End.STOP_STRING;
        }
    }

    private static void append(String s, StringBuilder sink) {
        if (sink != null && !s.isEmpty()) {
            sink.append(s);
        }
    }

    /** Whether the loop has ended. */
    public boolean finished() {
        return finished;
    }

    /** Why it ended (meaningful once {@link #finished()}). */
    public End end() {
        return end;
    }

    /** {@link System#nanoTime()} when the first token was emitted, or 0 if none was. */
    public long firstTokenAt() {
        return firstTokenAt;
    }

    /** Tokens generated so far. */
    public int count() {
        return n;
    }

    /** Tokens still allowed by the limit. */
    public int left() {
        return maxTokens - n;
    }

    /** A copy of the tokens generated (the array itself when it is exactly full). */
    public int[] tokens() {
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** The text let out so far. */
    public String text() {
        return text.text();
    }
}
