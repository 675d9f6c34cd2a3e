package org.llamajava;

import static org.llamajava.bindings.global.llama.*;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.llamajava.bindings.llama_batch;
import org.llamajava.bindings.llama_context;
import org.llamajava.bindings.llama_sampler;
import org.llamajava.internal.BatchDecoder;
import org.llamajava.internal.DecodeEvent;
import org.llamajava.internal.Jfr;
import org.llamajava.internal.NativeErrors;

/**
 * The one path from the API down to {@code llama_decode}: a context's batch, which batch row's
 * logits belong to which sequence, sampling from them, and token pieces.
 *
 * <p>{@link Context} and {@link Sequence} call it downward with a sequence id; it never calls
 * back up. A batch may hold tokens of several sequences ({@link #add}, then {@link #decode()}),
 * so that one {@code llama_decode} advances many sequences at once; {@link #decode(int, int[],
 * int, int, int, int[])} is the single-sequence case built on the same pieces.
 *
 * <p>Not thread-safe: its callers hold their {@link Context}'s single-thread guard. Its native
 * memory belongs to the context's state, which calls {@link #free()} after freeing the context.
 */
final class Decoder implements BatchDecoder<Sampler> {
    /** What {@link #sample} returns when the sampler's grammar allows no token. */
    static final int GRAMMAR_REJECTED = -1;

    private final llama_context ctx;
    private final Vocabulary vocab;
    private final llama_batch batch;
    private final int capacity;
    private final int nVocab;
    private final int nCtx;
    // direct-buffer views of the native batch, made once: filling it allocates nothing and
    // crosses no JNI boundary
    private final IntBuffer batchToken;
    private final IntBuffer batchPos;
    private final IntBuffer batchNSeq;
    private final IntBuffer[] batchSeq;
    private final ByteBuffer batchLogits;
    /** Rows queued in the batch. */
    private int rows;
    /** Per sequence id: the row of the last decode whose logits are that sequence's, or -1. */
    private final int[] logitsRow;
    /** The last row with logits in the last decode, or -1. */
    private int lastLogitsRow = -1;
    final IntPointer abortFlag = new IntPointer(1).put(0, 0);
    private BytePointer piece = new BytePointer(256);
    private byte[] pieceBytes = new byte[256];
    private boolean freed;

    /**
     * Whether the context has no memory (BERT and other encoders): llama_decode then runs the
     * encoder, which attends over the whole batch at once and asserts that it fits one physical
     * batch.
     */
    private final boolean encoderOnly;

    /** The model's RPC guard, or null: decodes then run on its worker and wait for the outputs there. */
    private final RpcGuard rpc;

    Decoder(llama_context ctx, Vocabulary vocab, int sequences, boolean encoderOnly, RpcGuard rpc) { // encoderOnly: no memory
        this.ctx = ctx;
        this.rpc = rpc;
        this.vocab = vocab;
        this.encoderOnly = encoderOnly;
        // an encoder's batch must fit n_ubatch; llama.cpp asserts otherwise (aborting the process)
        this.capacity = encoderOnly ? Math.min(llama_n_batch(ctx), llama_n_ubatch(ctx)) : llama_n_batch(ctx);
        this.nCtx = llama_n_ctx(ctx);
        this.nVocab = vocab.size();
        this.batch = llama_batch_init(capacity, 0, 1);
        this.batchToken = batch.token().capacity(capacity).asBuffer();
        this.batchPos = batch.pos().capacity(capacity).asBuffer();
        this.batchNSeq = batch.n_seq_id().capacity(capacity).asBuffer();
        this.batchLogits = batch.logits().capacity(capacity).asBuffer();
        this.batchSeq = new IntBuffer[capacity];
        for (int i = 0; i < capacity; i++) {
            batchSeq[i] = batch.seq_id(i).capacity(1).asBuffer();
        }
        this.logitsRow = new int[sequences];
        Arrays.fill(logitsRow, -1);
    }

    /** Most tokens one {@link #decode()} takes (n_batch). */
    @Override
    public int capacity() {
        return capacity;
    }

    /** Rows queued since the last decode. */
    @Override
    public int rows() {
        return rows;
    }

    /** Room left in the batch. */
    @Override
    public int room() {
        return capacity - rows;
    }

    // ---- building and decoding a batch ---------------------------------------------------------

    /**
     * Queues one token of sequence {@code seq} at position {@code pos}; {@code wantLogits} keeps
     * its logits for sampling. Returns its row.
     *
     * @throws IllegalStateException if the batch is full
     */
    @Override
    public int add(int seq, int token, int pos, boolean wantLogits) {
        if (rows == capacity) {
            throw new IllegalStateException("the batch is full (" + capacity + " tokens): decode it first");
        }
        int row = rows++;
        batchToken.put(row, token);
        batchPos.put(row, pos);
        batchNSeq.put(row, 1);
        batchSeq[row].put(0, seq);
        batchLogits.put(row, (byte) (wantLogits ? 1 : 0));
        return row;
    }

    /**
     * Decodes the queued rows in one {@code llama_decode} and empties the batch. On success, each
     * row queued with logits makes them its sequence's current logits; every other sequence has
     * none afterwards (llama.cpp keeps only the last decode's).
     *
     * @return llama_decode's code: 0 on success; 1 no room in the KV cache; 2 aborted; -1 an
     *     invalid batch; anything else a failure. {@link #failure} turns a code into an exception.
     */
    @Override
    public int decode() {
        int n = rows;
        rows = 0;
        Arrays.fill(logitsRow, -1);
        lastLogitsRow = -1;
        if (n == 0) {
            return 0;
        }
        batch.n_tokens(n);
        // the event exists only while a recording has it on: no allocation per decode otherwise
        DecodeEvent event = Jfr.decode() ? new DecodeEvent() : null;
        if (event != null) {
            event.begin();
        }
        int rc = rpc == null ? llama_decode(ctx, batch) : rpc.callInt("decoding", () -> {
            int r = llama_decode(ctx, batch);
            // the outputs arrive asynchronously from the servers: wait for them here, not in a
            // later unguarded llama_get_logits
            llama_synchronize(ctx);
            return r;
        });
        if (event != null) {
            commit(event, n, rc);
        }
        if (rc != 0) {
            abortFlag.put(0, 0);
            return rc;
        }
        for (int row = 0; row < n; row++) {
            if (batchLogits.get(row) != 0) {
                logitsRow[batchSeq[row].get(0)] = row;
                lastLogitsRow = row;
            }
        }
        return 0;
    }

    /** Fills and commits a decode's JFR event ({@code n} rows, still in the batch buffers). */
    private void commit(DecodeEvent event, int n, int rc) {
        event.end();
        if (!event.shouldCommit()) {
            return;
        }
        boolean[] seen = new boolean[logitsRow.length];
        int sequences = 0;
        int outputs = 0;
        for (int row = 0; row < n; row++) {
            int s = batchSeq[row].get(0);
            if (s >= 0 && s < seen.length && !seen[s]) {
                seen[s] = true;
                sequences++;
            }
            if (batchLogits.get(row) != 0) {
                outputs++;
            }
        }
        event.tokens = n;
        event.sequences = sequences;
        event.outputs = outputs;
        event.result = rc;
        event.commit();
    }

    /** The exception for a failed {@link #decode()} of {@code tokens} tokens. */
    @Override
    public RuntimeException failure(int rc, int tokens) {
        return switch (rc) {
            case 1 -> new ContextOverflowException("no room in the KV cache for " + tokens
                    + " more tokens (context size " + nCtx + ")");
            case 2 -> new AbortedException("decode was aborted");
            case -1 -> new IllegalArgumentException("llama.cpp rejected the batch as invalid" + NativeErrors.suffix());
            default -> new LlamaException("llama_decode failed with code " + rc + NativeErrors.suffix());
        };
    }

    /**
     * Decodes {@code n} tokens from {@code tokens[off..]} into sequence {@code seq} at positions
     * from {@code pos}, in batches of {@link #capacity()}, keeping the last token's logits.
     * {@code done[0]} receives how many tokens made it into the KV cache (all of them unless an
     * exception is thrown).
     */
    void decode(int seq, int[] tokens, int off, int n, int pos, int[] done) {
        done[0] = 0;
        if (encoderOnly && n > capacity) {
            throw new IllegalArgumentException(n + " tokens do not fit one batch of this encoder model (" + capacity
                    + " tokens: the smaller of batchSize and ubatchSize); an encoder sees an input in one batch,"
                    + " so raise both, or shorten the input");
        }
        rows = 0;
        for (int start = 0; start < n; start += capacity) {
            int m = Math.min(capacity, n - start);
            for (int i = 0; i < m; i++) {
                add(seq, tokens[off + start + i], pos + start + i, start + i == n - 1);
            }
            int rc = decode();
            if (rc != 0) {
                // what the KV cache really holds for this sequence now
                int kept = llama_memory_seq_pos_max(llama_get_memory(ctx), seq) + 1;
                done[0] = Math.max(0, kept - pos);
                throw failure(rc, m);
            }
            done[0] = start + m;
        }
    }

    // ---- logits and sampling ----------------------------------------------------------------------

    /** Whether sequence {@code seq} has current logits. */
    @Override
    public boolean hasLogits(int seq) {
        return logitsRow[seq] >= 0;
    }

    @Override
    public FloatBuffer sequenceEmbedding(int seq, int size) {
        FloatPointer p = llama_get_embeddings_seq(ctx, seq);
        if (p == null || p.isNull()) {
            throw new IllegalStateException("no pooled embedding for sequence " + seq
                    + ": the context has no pooling, or the sequence was not in the last batch");
        }
        return p.capacity(size).asBuffer().asReadOnlyBuffer();
    }

    @Override
    public FloatBuffer rowEmbedding(int row, int size) {
        FloatPointer p = llama_get_embeddings_ith(ctx, row);
        if (p == null || p.isNull()) {
            throw new IllegalStateException("no embedding for batch row " + row + " of the last decode");
        }
        return p.capacity(size).asBuffer().asReadOnlyBuffer();
    }

    @Override
    public void clearMemory() {
        if (rpc == null) {
            llama_memory_clear(llama_get_memory(ctx), true);
        } else {
            rpc.run("clearing the KV cache", () -> llama_memory_clear(llama_get_memory(ctx), true));
        }
        Arrays.fill(logitsRow, -1);
        lastLogitsRow = -1;
    }

    /** Whether any row of the last decode has logits. */
    boolean hasAnyLogits() {
        return lastLogitsRow >= 0;
    }

    /** Drops sequence {@code seq}'s logits (its cache changed underneath them). */
    void forgetLogits(int seq) {
        if (logitsRow[seq] == lastLogitsRow) {
            lastLogitsRow = -1;
        }
        logitsRow[seq] = -1;
    }

    /** Sequence {@code seq}'s logits, read in place from native memory (valid until the next decode). */
    @Override
    public FloatBuffer logits(int seq) {
        requireLogits(seq);
        return logitsAt(logitsRow[seq]);
    }

    /** The last decoded row's logits, read in place. */
    FloatBuffer lastLogits() {
        if (lastLogitsRow < 0) {
            throw new IllegalStateException("no logits yet: decode at least one token first");
        }
        return logitsAt(lastLogitsRow);
    }

    private FloatBuffer logitsAt(int row) {
        FloatPointer p = llama_get_logits_ith(ctx, row);
        if (p == null || p.isNull()) {
            throw new LlamaException("llama.cpp returned no logits for batch row " + row);
        }
        return p.capacity(nVocab).asBuffer().asReadOnlyBuffer();
    }

    @Override
    public void removeFrom(int seq, int pos) {
        llama_memory_seq_rm(llama_get_memory(ctx), seq, pos, -1);
        forgetLogits(seq);
    }

    @Override
    public void shift(int seq, int keep, int discard, int end) {
        llama_memory_seq_rm(llama_get_memory(ctx), seq, keep, keep + discard);
        llama_memory_seq_add(llama_get_memory(ctx), seq, keep + discard, end, -discard);
        forgetLogits(seq);
    }

    @Override
    public byte[] saveSequence(int seq) {
        long size = llama_state_seq_get_size(ctx, seq);
        if (size <= 0 || size > Integer.MAX_VALUE - 1024) {
            return null;
        }
        try (BytePointer buf = new BytePointer(size)) {
            long n = rpc == null ? llama_state_seq_get_data(ctx, buf, size, seq)
                    : rpc.call("reading a sequence's state", () -> llama_state_seq_get_data(ctx, buf, size, seq));
            if (n != size) {
                return null;
            }
            byte[] out = new byte[(int) n];
            buf.get(out);
            return out;
        }
    }

    @Override
    public boolean restoreSequence(int seq, byte[] state) {
        forgetLogits(seq);
        try (BytePointer buf = new BytePointer(state)) {
            long used = rpc == null ? llama_state_seq_set_data(ctx, buf, state.length, seq)
                    : rpc.call("restoring a sequence's state", () -> llama_state_seq_set_data(ctx, buf, state.length, seq));
            if (used == 0) {
                llama_memory_seq_rm(llama_get_memory(ctx), seq, -1, -1);
                return false;
            }
            return true;
        }
    }

    /** Samples from sequence {@code seq}'s logits. */
    @Override
    public int sample(int seq, Sampler sampler) {
        requireLogits(seq);
        if (recordTop != null && seq < recordTop.length && recordTop[seq] > 0 && sampler.grammarHandle() == null) {
            return sampleRecording(seq, logitsRow[seq], sampler);
        }
        if (recorded != null && seq < recorded.length) {
            recorded[seq] = null;
        }
        return sampleRow(logitsRow[seq], sampler);
    }

    /** Per sequence: how many candidates {@link #sample} records (null until one asks), and what it recorded. */
    private int[] recordTop;
    private GeneratedToken[] recorded;
    /** The candidate array {@link #sampleRecording} fills (n_vocab entries), made on first use. */
    private org.bytedeco.javacpp.Pointer candidates;
    private ByteBuffer candidateBytes;
    private org.llamajava.bindings.llama_token_data_array candidateArray;
    private int candidateStride;

    @Override
    public void recordCandidates(int seq, int top) {
        if (recordTop == null) {
            if (top == 0) {
                return;
            }
            recordTop = new int[Math.max(seq + 1, logitsRow.length)];
            recorded = new GeneratedToken[recordTop.length];
        }
        recordTop[seq] = top;
        recorded[seq] = null;
    }

    @Override
    public GeneratedToken sampledCandidates(int seq) {
        return recorded == null || seq >= recorded.length ? null : recorded[seq];
    }

    /**
     * {@code llama_sampler_sample}, step by step, keeping what the chain left: the candidates
     * (every token with its logit) through the chain, the selected one accepted, then the
     * {@code recordTop[seq]} most probable of those left recorded (none of probability 0), as
     * llama-server's {@code post_sampling_probs} reads them ({@code common_sampler_get_candidates}).
     */
    private int sampleRecording(int seq, int row, Sampler sampler) {
        try {
            llama_sampler chain = sampler.handle();
            if (candidates == null) {
                org.llamajava.bindings.llama_token_data data = new org.llamajava.bindings.llama_token_data(nVocab);
                candidateStride = data.sizeof();
                candidates = data;
                candidateBytes = new BytePointer(data).capacity((long) nVocab * candidateStride).asByteBuffer()
                        .order(java.nio.ByteOrder.nativeOrder());
                candidateArray = new org.llamajava.bindings.llama_token_data_array();
            }
            FloatBuffer logits = logitsAt(row);
            ByteBuffer b = candidateBytes;
            int stride = candidateStride;
            for (int i = 0; i < nVocab; i++) {
                int at = i * stride;
                b.putInt(at, i);
                b.putFloat(at + 4, logits.get(i));
                b.putFloat(at + 8, 0f);
            }
            org.llamajava.bindings.llama_token_data_array a = candidateArray;
            a.data(new org.llamajava.bindings.llama_token_data(candidates)).size(nVocab).selected(-1).sorted(false);
            llama_sampler_apply(chain, a);
            long size = a.size();
            long selected = a.selected();
            if (selected < 0 || selected >= size) {
                throw new IllegalStateException("the sampler chain selected no token (" + selected + " of " + size + ")");
            }
            ByteBuffer out = a.data().address() == candidates.address() ? b
                    : new BytePointer(a.data()).capacity(size * stride).asByteBuffer().order(java.nio.ByteOrder.nativeOrder());
            int token = out.getInt((int) selected * stride);
            llama_sampler_accept(chain, token);
            int k = (int) Math.min(recordTop[seq], size);
            int[] ids = new int[k];
            float[] ps = new float[k];
            int filled = 0;
            float chosen = 0f;
            for (int i = 0; i < size; i++) {
                int at = i * stride;
                int id = out.getInt(at);
                float p = out.getFloat(at + 8);
                if (id == token) {
                    chosen = p;
                }
                if (!(p > 0f) || (filled == k && p <= ps[k - 1])) {
                    continue;
                }
                int j = filled < k ? filled++ : k - 1;
                while (j > 0 && ps[j - 1] < p) {
                    ids[j] = ids[j - 1];
                    ps[j] = ps[j - 1];
                    j--;
                }
                ids[j] = id;
                ps[j] = p;
            }
            java.util.List<TokenProbability> top = new java.util.ArrayList<>(filled);
            for (int i = 0; i < filled; i++) {
                top.add(new TokenProbability(ids[i], (float) Math.log(ps[i])));
            }
            recorded[seq] = new GeneratedToken(token, (float) Math.log(chosen), java.util.List.copyOf(top));
            return token;
        } finally {
            Reference.reachabilityFence(sampler);
        }
    }

    /** Samples from row {@code row} of the last decode (speculative verification samples every row). */
    int sampleAt(int row, Sampler sampler) {
        return sampleRow(row, sampler);
    }

    /**
     * Makes row {@code row} of the last decode sequence {@code seq}'s current logits (after a
     * speculative batch whose later rows were rejected).
     */
    void useRow(int seq, int row) {
        logitsRow[seq] = row;
        lastLogitsRow = row;
    }

    /** Samples from the last decoded row's logits, whichever sequence they belong to. */
    int sampleLast(Sampler sampler) {
        if (lastLogitsRow < 0) {
            throw new IllegalStateException("no logits yet: decode at least one token first");
        }
        return sampleRow(lastLogitsRow, sampler);
    }

    /**
     * Samples from a row's logits. With a grammar, returns {@link #GRAMMAR_REJECTED} when the
     * grammar allows no candidate, or could not accept the token (it is then reset).
     */
    private int sampleRow(int row, Sampler sampler) {
        try {
            llama_sampler chain = sampler.handle();
            llama_sampler grammar = sampler.grammarHandle();
            if (grammar == null) {
                return llama_sampler_sample(chain, ctx, row);
            }
            int token = llamajava_sample_grammar(chain, grammar, ctx, row);
            return token < 0 ? GRAMMAR_REJECTED : token;
        } finally {
            Reference.reachabilityFence(sampler); // not freed by its Cleaner during the native call
        }
    }

    private void requireLogits(int seq) {
        if (logitsRow[seq] < 0) {
            throw new IllegalStateException("no logits for this sequence yet: evaluate a prompt first");
        }
    }

    // ---- pieces and abort -------------------------------------------------------------------------

    @Override
    public boolean isEndOfGeneration(int token) {
        return vocab.isEndOfGeneration(token);
    }

    /** Writes the token's piece into a reused buffer and returns it (valid until the next call). */
    @Override
    public byte[] piece(int token, int[] length) {
        int cap = (int) Math.min(Integer.MAX_VALUE, piece.capacity());
        int n = vocab.tokenToPiece(token, piece, cap, true);
        if (n < 0) {
            piece.close();
            piece = new BytePointer(-n);
            n = vocab.tokenToPiece(token, piece, (int) piece.capacity(), true);
        }
        if (n > pieceBytes.length) {
            pieceBytes = new byte[n];
        }
        piece.get(pieceBytes, 0, n);
        length[0] = n;
        return pieceBytes;
    }

    /**
     * Raises (or clears) the native abort flag that llama_decode checks; safe from any thread,
     * and a no-op once freed.
     */
    synchronized void setAbort(boolean abort) {
        if (!freed) {
            abortFlag.put(0, abort ? 1 : 0);
        }
    }

    /** Frees the batch and buffers; called once, after the context itself was freed. */
    synchronized void free() {
        freed = true;
        llama_batch_free(batch);
        piece.close();
        abortFlag.close();
    }
}
