package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.llamajava.bindings.llama_batch;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.llama_context_params;

/**
 * An inference context over a {@link Model}: its KV cache, the batch it decodes, and the logits
 * of the last decoded token.
 *
 * <p>A Context is single-threaded: a call made while another thread is inside a call on the same
 * Context fails with {@link IllegalStateException} instead of corrupting state. It may be handed
 * from one thread to another between calls.
 *
 * <pre>{@code
 * try (Context ctx = model.createContext(ContextParams.defaults());
 *      Sampler sampler = Sampler.greedy()) {
 *     Completion c = ctx.generate(model.vocabulary().tokenize("Once upon a time"), sampler, 32,
 *                                 System.out::print);
 * }
 * }</pre>
 */
public final class Context implements AutoCloseable {

    private final Model model;
    private final Vocabulary vocab;
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final int nCtx;
    private final int nBatch;
    private final int nVocab;
    // views into the native batch, made once so that filling it allocates nothing
    private final IntPointer batchToken;
    private final IntPointer batchPos;
    private final IntPointer batchNSeq;
    private final IntPointer[] batchSeq;
    private final BytePointer batchLogits;
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private int depth;
    private int position;
    private boolean hasLogits;
    private byte[] pieceBytes = new byte[256];

    Context(Model model, ContextParams params) {
        if (model.isVocabOnly()) {
            throw new IllegalStateException("Model " + model.path() + " was loaded vocabOnly; it has no weights to run");
        }
        this.model = model;
        this.vocab = model.vocabulary();
        llama_context ctx;
        try (llama_context_params p = llama_context_default_params()) {
            p.n_ctx(params.contextSize()).n_batch(params.batchSize()).n_ubatch(params.ubatchSize())
                    .n_seq_max(1).n_threads(params.threads()).n_threads_batch(params.threadsBatch())
                    .no_perf(false);
            Llama.clearLastError();
            ctx = llama_init_from_model(model.handle(), p);
        }
        if (ctx == null || ctx.isNull()) {
            throw new LlamaException("failed to create a context (n_ctx " + params.contextSize() + ", n_batch "
                    + params.batchSize() + ")" + Llama.lastErrorSuffix());
        }
        this.nCtx = llama_n_ctx(ctx);
        this.nBatch = llama_n_batch(ctx);
        this.nVocab = vocab.size();
        llama_batch batch = llama_batch_init(nBatch, 0, 1);
        this.state = new State(ctx, batch);
        this.batchToken = batch.token().capacity(nBatch);
        this.batchPos = batch.pos().capacity(nBatch);
        this.batchNSeq = batch.n_seq_id().capacity(nBatch);
        this.batchLogits = batch.logits().capacity(nBatch);
        this.batchSeq = new IntPointer[nBatch];
        for (int i = 0; i < nBatch; i++) {
            batchSeq[i] = batch.seq_id(i).capacity(1);
        }
        this.cleanable = state.register(this);
        model.addDependent(state);
    }

    /** The model this context runs. */
    public Model model() {
        return model;
    }

    /** Tokens this context can hold (n_ctx). */
    public int contextSize() {
        return nCtx;
    }

    /** Most tokens per native decode call (n_batch); longer inputs are split. */
    public int batchSize() {
        return nBatch;
    }

    /** Tokens evaluated so far: the position the next token takes. */
    public int position() {
        return position;
    }

    /** Tokens that still fit. */
    public int remaining() {
        return nCtx - position;
    }

    /**
     * Evaluates tokens after those already in the context, in batches of {@link #batchSize()},
     * keeping the logits of the last one.
     *
     * @throws ContextOverflowException if they do not fit; nothing is evaluated then
     * @throws IllegalArgumentException if a token id is outside the vocabulary or none is given
     */
    public void decode(int[] tokens) {
        vocab.checkTokens(tokens);
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to decode");
        }
        enter();
        try {
            checkFits(tokens.length);
            for (int start = 0; start < tokens.length; start += nBatch) {
                int n = Math.min(nBatch, tokens.length - start);
                for (int i = 0; i < n; i++) {
                    put(i, tokens[start + i], start + i == tokens.length - 1);
                }
                run(n);
            }
        } finally {
            exit();
        }
    }

    /**
     * The logits of the last decoded token, one per vocabulary entry, read in place from native
     * memory (no copy). Valid until the next decode or close.
     */
    public FloatBuffer logits() {
        enter();
        try {
            checkLogits();
            FloatPointer p = llama_get_logits_ith(state.ctx, -1);
            if (p == null || p.isNull()) {
                throw new LlamaException("llama.cpp returned no logits for the last token");
            }
            return p.capacity(nVocab).asBuffer().asReadOnlyBuffer();
        } finally {
            exit();
        }
    }

    /** Forgets every token: the context is empty again. */
    public void clear() {
        enter();
        try {
            llama_memory_clear(llama_get_memory(handle()), true);
            position = 0;
            hasLogits = false;
        } finally {
            exit();
        }
    }

    /**
     * Evaluates the prompt, then samples up to {@code maxTokens} tokens, evaluating each in turn,
     * and streams their text. Text is UTF-8 safe: a character split across tokens is passed on
     * whole. Generation stops at an end-of-generation token (not passed on), at
     * {@code maxTokens}, or when the context is full.
     *
     * @param prompt    tokens to evaluate first; may be empty to continue from the last token
     * @param onText    receives each piece of text as it is generated; may be null
     */
    public Completion generate(int[] prompt, Sampler sampler, int maxTokens, Consumer<String> onText) {
        if (sampler == null) {
            throw new IllegalArgumentException("sampler is null; use Sampler.greedy() for greedy decoding");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0; got " + maxTokens);
        }
        vocab.checkTokens(prompt);
        enter();
        try {
            if (prompt.length > 0) {
                decode(prompt);
            } else {
                checkLogits();
            }
            Utf8Stream utf8 = new Utf8Stream();
            StringBuilder text = new StringBuilder();
            int[] out = new int[Math.min(maxTokens, 1024)];
            int n = 0;
            FinishReason reason = FinishReason.MAX_TOKENS;
            while (n < maxTokens) {
                int token = sampler.sample(this);
                if (n == out.length) {
                    out = Arrays.copyOf(out, out.length * 2);
                }
                out[n++] = token;
                if (vocab.isEndOfGeneration(token)) {
                    reason = FinishReason.END_OF_GENERATION;
                    break;
                }
                emit(utf8.push(pieceBytes, 0, piece(token)), text, onText);
                if (n == maxTokens) {
                    break;
                }
                if (position >= nCtx) {
                    reason = FinishReason.CONTEXT_FULL;
                    break;
                }
                put(0, token, true);
                run(1);
            }
            emit(utf8.flush(), text, onText);
            return new Completion(text.toString(), Arrays.copyOf(out, n), prompt.length, reason);
        } finally {
            exit();
        }
    }

    /** Whether {@link #close()} has been called (or the model was closed). */
    public boolean isClosed() {
        return state.isFreed();
    }

    /** Frees the context's native memory; idempotent. */
    @Override
    public void close() {
        Thread other = user.get();
        if (other != null && other != Thread.currentThread()) {
            throw new IllegalStateException("cannot close a Context while thread '" + other.getName() + "' is using it");
        }
        cleanable.clean();
        model.removeDependent(state);
    }

    // ---- package-private hooks ---------------------------------------------------------------

    int sample(org.llamajava.bindings.llama_sampler sampler) {
        enter();
        try {
            checkLogits();
            return llama_sampler_sample(sampler, state.ctx, -1);
        } finally {
            exit();
        }
    }

    // ---- internals ------------------------------------------------------------------------------

    private static void emit(String s, StringBuilder text, Consumer<String> onText) {
        if (!s.isEmpty()) {
            text.append(s);
            if (onText != null) {
                onText.accept(s);
            }
        }
    }

    /** Writes the token's piece into {@link #pieceBytes}; returns its length. */
    private int piece(int token) {
        int n = vocab.tokenToPiece(token, state.piece, state.piece.capacity() > Integer.MAX_VALUE
                ? Integer.MAX_VALUE : (int) state.piece.capacity(), true);
        if (n < 0) {
            state.growPiece(-n);
            n = vocab.tokenToPiece(token, state.piece, (int) state.piece.capacity(), true);
        }
        if (n > pieceBytes.length) {
            pieceBytes = new byte[n];
        }
        state.piece.get(pieceBytes, 0, n);
        return n;
    }

    private void put(int i, int token, boolean wantLogits) {
        batchToken.put(i, token);
        batchPos.put(i, position + i);
        batchNSeq.put(i, 1);
        batchSeq[i].put(0, 0);
        batchLogits.put(i, (byte) (wantLogits ? 1 : 0));
    }

    /** Decodes the first {@code n} batch entries and advances the position. */
    private void run(int n) {
        llama_context ctx = handle();
        state.batch.n_tokens(n);
        hasLogits = false;
        int rc = llama_decode(ctx, state.batch);
        if (rc != 0) {
            // resynchronise with what the KV cache really holds
            position = llama_memory_seq_pos_max(llama_get_memory(ctx), 0) + 1;
            switch (rc) {
                case 1 -> throw new ContextOverflowException("no room in the KV cache for " + n + " tokens at position "
                        + position + " (context size " + nCtx + ")");
                case 2 -> throw new LlamaException("decode was aborted");
                case -1 -> throw new IllegalArgumentException("llama.cpp rejected the batch as invalid" + Llama.lastErrorSuffix());
                default -> throw new LlamaException("llama_decode failed with code " + rc + Llama.lastErrorSuffix());
            }
        }
        position += n;
        hasLogits = batchLogits.get(n - 1) != 0;
    }

    private void checkFits(int n) {
        if ((long) position + n > nCtx) {
            throw new ContextOverflowException(n + " tokens do not fit: " + position + " of " + nCtx
                    + " positions are used; create the Context with a larger contextSize or clear() it");
        }
    }

    private void checkLogits() {
        handle();
        if (!hasLogits) {
            throw new IllegalStateException("no logits yet: decode at least one token first");
        }
    }

    private llama_context handle() {
        if (state.isFreed()) {
            throw new IllegalStateException(model.isClosed() ? "Context is closed (its Model was closed)" : "Context is closed");
        }
        return state.ctx;
    }

    private void enter() {
        Thread t = Thread.currentThread();
        Thread u = user.get();
        if (u != t) {
            if (!user.compareAndSet(null, t)) {
                Thread other = user.get();
                throw new IllegalStateException("Context is in use by thread '" + (other == null ? "?" : other.getName())
                        + "'; a Context is single-threaded: give each thread its own Context");
            }
        }
        depth++;
        handle();
    }

    private void exit() {
        if (--depth == 0) {
            user.set(null);
        }
    }

    private static final class State extends NativeState {
        final llama_context ctx;
        final llama_batch batch;
        BytePointer piece = new BytePointer(256);

        State(llama_context ctx, llama_batch batch) {
            this.ctx = ctx;
            this.batch = batch;
        }

        void growPiece(int size) {
            piece.close();
            piece = new BytePointer(size);
        }

        @Override
        protected void free() {
            llama_batch_free(batch);
            llama_free(ctx);
            piece.close();
        }
    }
}
