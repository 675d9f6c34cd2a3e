package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.List;
import org.llamajava.internal.ContextPort;
import org.llamajava.internal.PromptSegment;
import org.llamajava.internal.SequencePort;
import org.llamajava.internal.NativeErrors;

/**
 * One conversation's part of a {@link Context}'s KV cache, with the tokens it holds.
 *
 * <p>{@link #prompt(int[])} makes the sequence hold exactly the given tokens and evaluates only
 * those past the longest common prefix with what it already holds, so a multi-turn chat or an
 * edited prompt reuses the cache. {@link #fork()} copies the cache into a new sequence without
 * evaluating anything. {@link #save}/{@link #load} persist it. Closing a sequence frees its part
 * of the cache for another.
 *
 * <p>Like its Context, a Sequence is single-threaded.
 */
public final class Sequence implements AutoCloseable {
    final Context ctx;
    final Decoder decoder;
    final Vocabulary vocab;
    final int id;
    int[] history = new int[64];
    int length;
    private boolean closed;
    // reused on the per-token path
    final int[] one = new int[1];
    private final int[] done = new int[1];
    final int[] pieceLength = new int[1];

    Sequence(Context ctx, int id) {
        this.ctx = ctx;
        this.decoder = ctx.decoder();
        this.vocab = ctx.vocab();
        this.id = id;
        ctx.register(this);
    }

    /** The context holding this sequence. */
    public Context context() {
        return ctx;
    }

    /** The sequence id in the KV cache. */
    public int id() {
        return id;
    }

    /** Tokens held: the position the next token takes. */
    public int length() {
        return length;
    }

    /** A copy of the tokens held, oldest first. */
    public int[] tokens() {
        return Arrays.copyOf(history, length);
    }

    /**
     * Evaluates tokens after those already held.
     *
     * @throws ContextOverflowException if they do not fit and the overflow policy does not shift
     */
    public void append(int[] tokens) {
        vocab.checkTokens(tokens);
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to decode");
        }
        enter();
        try {
            evaluate(tokens, 0, tokens.length);
        } finally {
            ctx.exit();
        }
    }

    /**
     * Makes this sequence hold exactly {@code tokens}, evaluating only those after the longest
     * common prefix with what it holds (at least the last one, for its logits).
     *
     * @return how many tokens were reused from the cache instead of evaluated
     */
    public int prompt(int[] tokens) {
        vocab.checkTokens(tokens);
        if (tokens.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        enter();
        try {
            int lcp = 0;
            int max = Math.min(length, tokens.length);
            while (lcp < max && history[lcp] == tokens[lcp]) {
                lcp++;
            }
            if (lcp == tokens.length) {
                if (lcp == length && decoder.hasLogits(id)) {
                    return lcp;
                }
                lcp--; // evaluate the last token again for its logits
            }
            cut(lcp);
            evaluate(tokens, lcp, tokens.length - lcp);
            return lcp;
        } finally {
            ctx.exit();
        }
    }

    /**
     * Makes this sequence hold {@code prompt} (reusing the cache, see {@link #prompt}), then
     * generates.
     */
    public Completion generate(int[] prompt, Sampler sampler, GenerateOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options are required; e.g. GenerateOptions.maxTokens(n)");
        }
        enter();
        // one generation, registered once with the abort signal, from the prompt to the last token
        Generation g = null;
        try {
            g = new Generation(this, sampler, options);
            long t0 = System.nanoTime();
            int reused;
            PromptProgress progress = options.onPromptProgress();
            try {
                reused = prompt(prompt);
            } catch (AbortedException e) {
                return new Completion("", new int[0], length, 0, FinishReason.CANCELLED,
                        new Timings(length, System.nanoTime() - t0, 0, 0));
            }
            if (progress != null) {
                progress.progress(prompt.length, reused, prompt.length, System.nanoTime() - t0);
            }
            g.prompted(prompt.length - reused, reused, System.nanoTime() - t0);
            return g.run();
        } finally {
            if (g != null) {
                g.close();
            }
            ctx.exit();
        }
    }

    /**
     * Fill-in-the-middle: makes this sequence hold the request formatted as llama-server's
     * {@code /infill} formats it for this context ({@link Infill#tokens} with its context and
     * batch sizes), then generates the middle.
     *
     * @throws UnsupportedOperationException if the model's vocabulary has no FIM tokens
     */
    public Completion infill(Infill request, Sampler sampler, GenerateOptions options) {
        if (request == null) {
            throw new IllegalArgumentException("request is null");
        }
        Vocabulary v = ctx.model().vocabulary();
        return generate(request.tokens(v, ctx.contextSize(), ctx.batchSize()), sampler, options);
    }

    /** Generates from what the sequence holds (which must not be empty). */
    public Completion generate(Sampler sampler, GenerateOptions options) {
        enter();
        Generation g = null;
        try {
            g = new Generation(this, sampler, options);
            g.prompted(0, length, 0);
            return g.run();
        } finally {
            if (g != null) {
                g.close();
            }
            ctx.exit();
        }
    }

    // ---- multimodal prompts (org.llamajava.multimodal, through port()) ---------------------------

    /**
     * Not API: how {@code org.llamajava.multimodal} evaluates prompts of text and media on this
     * sequence. Applications must not use it; its type is in {@code org.llamajava.internal}, which
     * no code outside llama-java's core may use.
     */
    public SequencePort<Sampler, GenerateOptions, Completion> port() {
        return port;
    }

    private final SequencePort<Sampler, GenerateOptions, Completion> port = new SequencePort<>() {
        @Override
        public int prompt(List<PromptSegment> prompt) {
            return promptSegments(prompt);
        }

        @Override
        public Completion generate(List<PromptSegment> prompt, Sampler sampler, GenerateOptions options) {
            return generateSegments(prompt, sampler, options);
        }

        @Override
        public ContextPort<?, Sampler> context() {
            return ctx.port();
        }
    };

    /**
     * Makes this sequence hold the prompt's text tokens and media chunks, evaluating only what
     * follows the longest common prefix with what it holds (a media chunk is reused whole or
     * evaluated whole). The prompt must end with text, whose last token gives the logits.
     */
    int promptSegments(List<PromptSegment> prompt) {
        if (prompt == null || prompt.isEmpty() || prompt.get(prompt.size() - 1).isMedia()
                || prompt.get(prompt.size() - 1).positions() == 0) {
            throw new IllegalArgumentException("a multimodal prompt must end with text (e.g. the assistant's turn header)"
                    + " after its last image or audio clip");
        }
        int total = 0;
        for (PromptSegment seg : prompt) {
            if (!seg.isMedia()) {
                vocab.checkTokens(seg.tokens());
            }
            total = Math.addExact(total, seg.positions());
        }
        int[] keys = new int[total];
        int at = 0;
        for (PromptSegment seg : prompt) {
            if (seg.isMedia()) {
                for (int i = 0; i < seg.positions(); i++) {
                    keys[at + i] = org.llamajava.internal.MediaPrompt.key(seg.key(), i);
                }
            } else {
                System.arraycopy(seg.tokens(), 0, keys, at, seg.positions());
            }
            at += seg.positions();
        }
        if (total > ctx.contextSize()) {
            throw new ContextOverflowException("the prompt takes " + total + " positions (" + (total - textPositions(prompt))
                    + " of them image or audio embeddings) but the context holds " + ctx.contextSize()
                    + "; create the Context with a larger contextSize, or send smaller or fewer images");
        }
        enter();
        try {
            int lcp = 0;
            int max = Math.min(length, total);
            while (lcp < max && history[lcp] == keys[lcp]) {
                lcp++;
            }
            if (lcp == total) {
                if (lcp == length && decoder.hasLogits(id)) {
                    return lcp;
                }
                lcp--; // the last token (text) again, for its logits
            }
            // a media chunk is evaluated whole: never keep only part of one
            int start = 0;
            for (PromptSegment seg : prompt) {
                if (seg.isMedia() && start < lcp && lcp < start + seg.positions()) {
                    lcp = start;
                    break;
                }
                start += seg.positions();
            }
            int reused = lcp;
            cut(lcp);
            start = 0;
            int nBatch = llama_n_batch(ctx.handle());
            for (PromptSegment seg : prompt) {
                int end = start + seg.positions();
                if (end > length) {
                    if (seg.isMedia()) {
                        org.llamajava.bindings.llama_context c = ctx.handle();
                        int from = length;
                        int rc = ctx.guardedDecode("evaluating an image or audio chunk",
                                () -> seg.media().decode(c, id, from, nBatch));
                        decoder.decode(); // the context's logits are no longer any sequence's
                        if (rc != 0) {
                            llama_memory_seq_rm(ctx.memory(), id, length, -1);
                            throw rc == 2 ? new AbortedException("decode was aborted")
                                    : new LlamaException("evaluating an image or audio chunk of " + seg.positions()
                                    + " positions failed with code " + rc + NativeErrors.suffix());
                        }
                        remember(keys, start, seg.positions());
                    } else {
                        int from = length - start;
                        evaluate(seg.tokens(), from, seg.positions() - from);
                    }
                }
                start = end;
            }
            return reused;
        } finally {
            ctx.exit();
        }
    }

    private static int textPositions(List<PromptSegment> prompt) {
        int n = 0;
        for (PromptSegment seg : prompt) {
            n += seg.isMedia() ? 0 : seg.positions();
        }
        return n;
    }

    /** {@link #generate(int[], Sampler, GenerateOptions)} for a prompt of text and media. */
    Completion generateSegments(List<PromptSegment> prompt, Sampler sampler, GenerateOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options are required; e.g. GenerateOptions.maxTokens(n)");
        }
        int total = 0;
        for (PromptSegment seg : prompt) {
            total += seg.positions();
        }
        int media = total - textPositions(prompt);
        enter();
        Generation g = null;
        try {
            g = new Generation(this, sampler, options);
            g.media = media;
            long t0 = System.nanoTime();
            int reused;
            try {
                reused = promptSegments(prompt);
            } catch (AbortedException e) {
                return new Completion("", new int[0], length, 0, FinishReason.CANCELLED,
                        new Timings(length, System.nanoTime() - t0, 0, 0), media);
            }
            g.prompted(total - reused, reused, System.nanoTime() - t0);
            return g.run();
        } finally {
            if (g != null) {
                g.close();
            }
            ctx.exit();
        }
    }

    /**
     * Like {@link #generate(int[], Sampler, GenerateOptions)}, but lazily: each element is the next
     * piece of text, generated when the stream asks for it. Closing the stream (or stopping
     * early) ends the generation.
     */
    public Stream<String> stream(int[] prompt, Sampler sampler, GenerateOptions options) {
        enter();
        Generation g;
        try {
            g = new Generation(this, sampler, options);
        } catch (RuntimeException e) {
            ctx.exit();
            throw e;
        }
        try {
            long t0 = System.nanoTime();
            int reused = prompt(prompt);
            g.prompted(prompt.length - reused, reused, System.nanoTime() - t0);
        } catch (AbortedException e) {
            g.finishCancelled();
        } catch (RuntimeException | Error e) {
            g.close();
            throw e;
        } finally {
            ctx.exit();
        }
        Iterator<String> it = new Iterator<>() {
            private String next;

            @Override
            public boolean hasNext() {
                if (next == null && !g.finished()) {
                    enter();
                    try {
                        StringBuilder sb = new StringBuilder();
                        while (!g.finished() && sb.length() == 0) {
                            g.step(sb);
                        }
                        if (sb.length() > 0) {
                            next = sb.toString();
                        }
                    } finally {
                        ctx.exit();
                    }
                }
                return next != null;
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                String s = next;
                next = null;
                return s;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL),
                false).onClose(g::close);
    }

    /** A new sequence holding the same tokens, sharing this one's cache (nothing is evaluated). */
    public Sequence fork() {
        enter();
        try {
            int nid = ctx.allocateId();
            llama_memory_seq_cp(ctx.memory(), id, nid, -1, -1);
            Sequence s = new Sequence(ctx, nid);
            s.history = Arrays.copyOf(history, history.length);
            s.length = length;
            return s;
        } finally {
            ctx.exit();
        }
    }

    /** Drops every token from position {@code newLength} on. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("newLength must be in [0, " + length + "]; got " + newLength);
        }
        enter();
        try {
            cut(newLength);
        } finally {
            ctx.exit();
        }
    }

    /** Drops every token. */
    public void clear() {
        truncate(0);
    }

    /**
     * Saves the tokens and KV state to a file that {@link #load} restores, in this or a new
     * process, into a context over the same model.
     */
    public void save(Path file) {
        byte[] state = saveState();
        try {
            Files.write(file, state);
        } catch (IOException e) {
            throw new LlamaException("could not save sequence state to " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The tokens and KV state, in {@link #save}'s format (llama-java's state-file format, kind
     * {@code sequence}), e.g. to keep in a database; {@link #loadState} restores them.
     */
    public byte[] saveState() {
        return SequenceState.save(this);
    }

    /**
     * Replaces this sequence's tokens and KV state with those saved by {@link #save}.
     *
     * @throws LlamaException if the file is not a sequence state file, is corrupt or truncated,
     *     was saved from another model, or does not fit this context
     */
    public void load(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new LlamaException("could not read sequence state " + file + ": " + e.getMessage(), e);
        }
        SequenceState.restore(this, all, file.toString());
    }

    /**
     * Replaces this sequence's tokens and KV state with those {@link #saveState()} returned.
     *
     * @throws LlamaException as {@link #load} does
     */
    public void loadState(byte[] state) {
        if (state == null) {
            throw new IllegalArgumentException("state is null");
        }
        SequenceState.restore(this, state, "the given sequence state");
    }

    /** Whether this sequence was closed (or its context). */
    public boolean isClosed() {
        return closed || ctx.isClosed();
    }

    /** Frees this sequence's part of the KV cache; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (ctx.isClosed()) {
            closed = true;
            return;
        }
        enter();
        try {
            closed = true;
            ctx.release(this);
        } finally {
            ctx.exit();
        }
    }

    // ---- internals -------------------------------------------------------------------------------

    void enter() {
        ctx.enter();
        if (closed) {
            ctx.exit();
            throw new IllegalStateException("Sequence " + id + " is closed");
        }
    }

    void cut(int newLength) {
        if (newLength < length) {
            llama_memory_seq_rm(ctx.memory(), id, newLength, -1);
            length = newLength;
        }
        decoder.forgetLogits(id);
    }

    /** Decodes {@code tokens[off..off+n)} after what is held, making room first. */
    void evaluate(int[] tokens, int off, int n) {
        makeRoom(n);
        try {
            decoder.decode(id, tokens, off, n, length, done);
        } finally {
            remember(tokens, off, done[0]);
        }
    }

    void remember(int[] tokens, int off, int n) {
        if (length + n > history.length) {
            history = Arrays.copyOf(history, Math.max(length + n, history.length * 2));
        }
        System.arraycopy(tokens, off, history, length, n);
        length += n;
    }

    /** Applies the overflow policy so that {@code n} more tokens fit. */
    private void makeRoom(int n) {
        int cap = ctx.contextSize();
        if (length + n <= cap) {
            return;
        }
        OverflowPolicy policy = ctx.overflow();
        if (!policy.shift()) {
            throw new ContextOverflowException(n + " tokens do not fit: this sequence holds " + length + " of "
                    + cap + " tokens; create the Context with a larger contextSize, clear() the sequence, or use"
                    + " OverflowPolicy.shift(keep)");
        }
        if (!ctx.canShift()) {
            throw new ContextOverflowException("the context is full and this model's memory cannot shift positions");
        }
        int keep = Math.min(policy.keepTokens(), length);
        int discard = Math.max(length + n - cap, (length - keep) / 2);
        if (keep + discard > length) {
            throw new ContextOverflowException(n + " tokens do not fit even after dropping everything but the first "
                    + keep + " (context size " + cap + ")");
        }
        llama_memory_seq_rm(ctx.memory(), id, keep, keep + discard);
        llama_memory_seq_add(ctx.memory(), id, keep + discard, length, -discard);
        System.arraycopy(history, keep + discard, history, keep, length - keep - discard);
        length -= discard;
        decoder.forgetLogits(id);
    }

    /** Makes the context's current logits this sequence's, evaluating the last token again if needed. */
    void ensureLogits() {
        if (decoder.hasLogits(id)) {
            return;
        }
        if (length == 0) {
            throw new IllegalStateException("the sequence is empty: evaluate a prompt before generating");
        }
        one[0] = history[length - 1];
        cut(length - 1);
        evaluate(one, 0, 1);
    }
}
